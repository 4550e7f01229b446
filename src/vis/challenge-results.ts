// People from / to the COCO DensePose challenge result form: per detection `bbox` [x, y, w, h],
// `score`, `uv_shape` [3, h, w] and `uv_data`, a base64 PNG whose R, G, B are I, U·255, V·255 at box size.
import sharp, { type OutputInfo } from 'sharp';
import { encodeUvData } from '../data/densepose-json.ts';
import { DensePoseError } from '../errors.ts';
import { uvByte } from './composite.ts';
import type { DensePosePerson } from './types.ts';

/** One detection of a challenge results file (other COCO fields pass through untouched). */
export interface ChallengeResult {
  image_id: number;
  category_id?: number;
  bbox: [number, number, number, number];
  score: number;
  uv_shape: [number, number, number];
  uv_data: string;
}

/** A person as a challenge detection: the map's planes as a base64 RGB PNG, `uv_shape` from the map. */
export async function toChallengeResult(person: DensePosePerson, imageId: number): Promise<ChallengeResult> {
  const { width: w, height: h, labels, u, v } = person.densepose;
  const rgb = new Uint8Array(3 * w * h);
  for (let i = 0; i < w * h; i++) {
    rgb[3 * i] = labels[i]!;
    rgb[3 * i + 1] = uvByte(u[i]!);
    rgb[3 * i + 2] = uvByte(v[i]!);
  }
  return { image_id: imageId, category_id: 1, bbox: [...person.box], score: person.score, ...encodeUvData(rgb, w, h) };
}

/** Decode one detection; `where` names it in errors (file and index). */
export async function personFromChallengeResult(r: ChallengeResult, where: string): Promise<DensePosePerson> {
  if (!Array.isArray(r.bbox) || r.bbox.length !== 4 || !r.bbox.every(Number.isFinite)) throw new DensePoseError('BAD_INPUT', `"bbox" must be [x, y, w, h], got ${JSON.stringify(r.bbox)}`, { where });
  if (typeof r.uv_data !== 'string' || !Array.isArray(r.uv_shape)) throw new DensePoseError('MISSING_KEY', 'needs "uv_shape" and "uv_data" (COCO DensePose challenge format)', { where });
  const [, h, w] = r.uv_shape;
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(Buffer.from(r.uv_data, 'base64')).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DensePoseError('BAD_INPUT', `"uv_data" is not a base64 PNG (${(e as Error).message})`, { where, cause: e });
  }
  const { width, height, channels } = raw.info;
  if (width !== w || height !== h) throw new DensePoseError('SHAPE_MISMATCH', `"uv_data" PNG is ${height}×${width} but "uv_shape" says ${h}×${w}`, { where });
  const n = w * h;
  const labels = new Uint8Array(n);
  const u = new Float32Array(n);
  const v = new Float32Array(n);
  const px = raw.data;
  for (let i = 0; i < n; i++) {
    const label = px[i * channels]!;
    if (label > 24) throw new DensePoseError('BAD_INPUT', `"uv_data" has part index ${label} at (${i % w}, ${Math.floor(i / w)}); expected 0..24`, { where });
    labels[i] = label;
    u[i] = px[i * channels + 1]! / 255;
    v[i] = px[i * channels + 2]! / 255;
  }
  return { box: [r.bbox[0], r.bbox[1], r.bbox[2], r.bbox[3]], score: typeof r.score === 'number' ? r.score : 1, densepose: { width: w, height: h, labels, u, v } };
}

export interface PeopleFromResultsOptions {
  /** Keep detections of this image only. @default every detection */
  imageId?: number;
  /** Keep detections scoring at least this. @default 0 */
  minScore?: number;
  /** Names the results file in errors. @default 'results' */
  where?: string;
}

/** Decode the people of a challenge results array (filtered by image and score). */
export async function peopleFromChallengeResults(results: unknown, options: PeopleFromResultsOptions = {}): Promise<DensePosePerson[]> {
  const where = options.where ?? 'results';
  if (!Array.isArray(results)) throw new DensePoseError('BAD_INPUT', 'expected a JSON array of detections (COCO results format)', { where });
  const minScore = options.minScore ?? 0;
  const picked = (results as ChallengeResult[])
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => (options.imageId === undefined || r.image_id === options.imageId) && !((r.score ?? 1) < minScore));
  return Promise.all(picked.map(({ r, i }) => personFromChallengeResult(r, `${where}: detection ${i}`)));
}
