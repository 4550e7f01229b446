// DensePose results in the COCO DensePose challenge form: each detection carries `uv_shape`
// [3, h, w] at box size and `uv_data`, a base64 PNG whose R, G, B planes are I, U·255, V·255.
import sharp from 'sharp';
import { DensePoseError } from '../errors.ts';
import { readJsonFile, validateCocoResults } from '../data/coco.ts';
import type { CocoDataset, CocoResult, LoadedResult } from '../data/coco.ts';
import type { BoxXywh } from '../data/mask.ts';

/** A box's dense prediction, planar `[3, height, width]` uint8: I (0..24), U·255, V·255. */
export interface IuvBox {
  height: number;
  width: number;
  data: Uint8Array;
}

export interface DensePoseDetection extends LoadedResult {
  iuv: IuvBox;
}

/** Box size of a DensePose result: [h, w] = [max(int(h), 1), max(int(w), 1)], as detectron2 resamples to. */
export function iuvSizeForBox(bbox: BoxXywh): [number, number] {
  return [Math.max(Math.trunc(bbox[3]), 1), Math.max(Math.trunc(bbox[2]), 1)];
}

/** Encode a box's IUV as the challenge fields. */
export async function encodeIuv(iuv: IuvBox): Promise<Pick<CocoResult, 'uv_shape' | 'uv_data'>> {
  const { height: h, width: w, data } = iuv;
  if (data.length !== 3 * h * w) throw new DensePoseError('SHAPE_MISMATCH', `IUV has ${data.length} bytes, expected 3·${h}·${w}`, { where: 'encodeIuv' });
  const rgb = new Uint8Array(3 * h * w);
  const n = h * w;
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = data[i]!;
    rgb[3 * i + 1] = data[n + i]!;
    rgb[3 * i + 2] = data[2 * n + i]!;
  }
  const png = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  return { uv_shape: [3, h, w], uv_data: png.toString('base64') };
}

/** Decode `uv_data`, checking it against `uv_shape` and the box. `where` names the result. */
export async function decodeIuv(result: CocoResult, where: string): Promise<IuvBox> {
  const shape = result.uv_shape;
  if (!shape || typeof result.uv_data !== 'string') throw new DensePoseError('MISSING_KEY', 'needs "uv_shape" and "uv_data"', { where });
  const [, h, w] = shape;
  const [eh, ew] = iuvSizeForBox(result.bbox);
  if (h !== eh || w !== ew) {
    throw new DensePoseError('SHAPE_MISMATCH', `"uv_shape" ${JSON.stringify(shape)} does not fit its box ${JSON.stringify(result.bbox)}: expected [3, ${eh}, ${ew}] = [3, int(h), int(w)]`, { where });
  }
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await sharp(Buffer.from(result.uv_data, 'base64')).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DensePoseError('BAD_INPUT', `"uv_data" is not a decodable base64 PNG (${(e as Error).message})`, { where, cause: e });
  }
  const { width, height, channels } = raw.info;
  if (width !== w || height !== h) {
    throw new DensePoseError('SHAPE_MISMATCH', `"uv_data" PNG is ${height}×${width}, "uv_shape" says ${h}×${w}`, { where });
  }
  const n = h * w;
  const data = new Uint8Array(3 * n);
  const px = raw.data;
  for (let i = 0; i < n; i++) {
    data[i] = px[i * channels]!;
    data[n + i] = px[i * channels + 1]!;
    data[2 * n + i] = px[i * channels + 2]!;
  }
  for (let i = 0; i < n; i++) {
    if (data[i]! > 24) throw new DensePoseError('BAD_INPUT', `"uv_data" has part index ${data[i]} at pixel (${i % w}, ${Math.floor(i / w)}); expected 0..24`, { where });
  }
  return { height: h, width: w, data };
}

/** Read a DensePose results JSON file: validated against `gt`, every `uv_data` decoded. */
export async function loadDensePoseResults(path: string, gt: CocoDataset): Promise<DensePoseDetection[]> {
  const results = validateCocoResults(readJsonFile(path), gt, path, { requireDensePose: true });
  return decodeDensePoseResults(results, path);
}

/** Decode the IUV of already-validated results (a few at a time: sharp runs off the main thread). */
export async function decodeDensePoseResults(results: readonly LoadedResult[], where: string): Promise<DensePoseDetection[]> {
  const out: DensePoseDetection[] = new Array(results.length);
  const batch = 64;
  for (let i = 0; i < results.length; i += batch) {
    await Promise.all(results.slice(i, i + batch).map(async (r, j) => {
      out[i + j] = { ...r, iuv: await decodeIuv(r, `${where}: result ${r.index} (image_id ${r.image_id})`) };
    }));
  }
  return out;
}
