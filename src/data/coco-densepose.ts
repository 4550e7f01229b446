// COCO-DensePose data set: the official densepose_coco_2014_*.json layout and our synthetic sets.
// Every person annotation is validated (lengths, ranges, 14 masks) with errors naming the
// annotation id and field; images that are missing or do not decode are reported and skipped.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { DensePoseError } from '../errors.ts';
import { readJsonFile, validateCocoDataset } from './coco.ts';
import type { CocoAnnotation, CocoDataset, CocoImage } from './coco.ts';
import { validateDenseRef } from './dense-iuv.ts';
import { decodeMask, rleRuns } from './mask.ts';
import type { BoxXywh, Rle, UncompressedRle } from './mask.ts';

const DP_ARRAYS = ['dp_x', 'dp_y', 'dp_I', 'dp_U', 'dp_V'] as const;

/** Check a person's DensePose fields; throws BAD_INPUT naming `annotation id N field "…"`. */
export function validateDensePoseAnnotation(a: CocoAnnotation, where: string): void {
  const at = (field: string) => `${where}: annotation id ${a.id} field "${field}"`;
  if (a.dp_dense !== undefined) {
    const seg = a.segmentation as { counts?: unknown } | undefined;
    validateDenseRef(a.dp_dense, !!seg && !Array.isArray(seg) && seg.counts !== undefined, `${where}: annotation id ${a.id}`);
  }
  const present = DP_ARRAYS.filter((k) => a[k] !== undefined);
  if (present.length === 0 && a.dp_masks === undefined) return; // a person without DensePose labels
  if (present.length !== DP_ARRAYS.length) {
    const missing = DP_ARRAYS.filter((k) => a[k] === undefined);
    throw new DensePoseError('MISSING_KEY', `has ${present.join(', ') || 'no point arrays'} but not ${missing.join(', ')}`, { where: `${where}: annotation id ${a.id}` });
  }
  const n = a.dp_x!.length;
  for (const k of DP_ARRAYS) {
    const v = a[k];
    if (!Array.isArray(v)) throw new DensePoseError('BAD_INPUT', `must be an array of numbers, got ${typeof v}`, { where: at(k) });
    if (v.length !== n) throw new DensePoseError('SHAPE_MISMATCH', `has ${v.length} values, dp_x has ${n}`, { where: at(k) });
    for (let i = 0; i < n; i++) {
      const x = v[i];
      const ok = typeof x === 'number' && Number.isFinite(x) &&
        (k === 'dp_I' ? Number.isInteger(x) && x >= 1 && x <= 24 : k === 'dp_U' || k === 'dp_V' ? x >= 0 && x <= 1 : x >= 0 && x <= 256);
      if (!ok) {
        const range = k === 'dp_I' ? 'an integer 1..24' : k === 'dp_U' || k === 'dp_V' ? 'in [0, 1]' : 'in [0, 256] (box frame)';
        throw new DensePoseError('BAD_INPUT', `[${i}] = ${JSON.stringify(x)}, expected ${range}`, { where: at(k) });
      }
    }
  }
  if (a.dp_masks !== undefined) {
    if (!Array.isArray(a.dp_masks) || a.dp_masks.length !== 14) {
      throw new DensePoseError('SHAPE_MISMATCH', `must be 14 entries (one per coarse part), got ${Array.isArray(a.dp_masks) ? a.dp_masks.length : typeof a.dp_masks}`, { where: at('dp_masks') });
    }
    a.dp_masks.forEach((m, i) => {
      if (m === null || m === 0 || (Array.isArray(m) && m.length === 0)) return;
      const r = rleRuns(m as Rle | UncompressedRle, at(`dp_masks[${i}]`));
      if (r.height !== 256 || r.width !== 256) throw new DensePoseError('SHAPE_MISMATCH', `is ${r.height}×${r.width}, expected 256×256`, { where: at(`dp_masks[${i}]`) });
    });
  }
}

/**
 * The one validator of COCO-DensePose ground truth, shared by every reader (train, eval, distill):
 * COCO structure, then every person's DensePose fields; errors name the file and the annotation id.
 */
export function validateCocoDensePose(raw: unknown, where: string): CocoDataset {
  const data = validateCocoDataset(raw, where);
  for (const a of data.annotations) validateDensePoseAnnotation(a, where);
  return data;
}

/** Read and validate a COCO-DensePose JSON file (annotations only, no images). */
export function loadCocoDensePoseJson(path: string): CocoDataset {
  return validateCocoDensePose(readJsonFile(path, 'COCO-DensePose JSON'), path);
}

/** A person's training targets. */
export interface PersonTarget {
  annotationId: number;
  box: BoxXywh;
  /** Points in the box frame scaled to box pixels: x = dp_x/255·w (add box x0 for the image). `[N]`. */
  x: Float32Array;
  y: Float32Array;
  /** `[N]` part 1..24. */
  i: Uint8Array;
  u: Float32Array;
  v: Float32Array;
  /** `[256, 256]` row-major coarse labels 0..14 (later masks win, as the reference builds them), or null without dp_masks. */
  masks: Uint8Array | null;
}

/** Per-person targets of an annotation with DensePose labels (null otherwise). */
export function personTarget(a: CocoAnnotation): PersonTarget | null {
  if (!a.dp_x) return null;
  const [, , w, h] = a.bbox;
  const n = a.dp_x.length;
  const t: PersonTarget = { annotationId: a.id, box: a.bbox, x: new Float32Array(n), y: new Float32Array(n), i: new Uint8Array(n), u: Float32Array.from(a.dp_U!), v: Float32Array.from(a.dp_V!), masks: null };
  for (let k = 0; k < n; k++) {
    t.x[k] = (a.dp_x[k]! / 255) * w;
    t.y[k] = (a.dp_y![k]! / 255) * h;
    t.i[k] = a.dp_I![k]!;
  }
  if (a.dp_masks) {
    const m = new Uint8Array(256 * 256);
    a.dp_masks.forEach((r, p) => {
      if (!r || (Array.isArray(r) && r.length === 0)) return;
      const d = decodeMask(r as Rle);
      for (let k = 0; k < d.length; k++) if (d[k]) m[k] = p + 1;
    });
    t.masks = m;
  }
  return t;
}

/** Options of {@link loadCocoDensePose}. */
export interface LoadCocoDensePoseOptions {
  /** Folder of the images; when given, each image is checked (exists, decodes, size matches). @default no check */
  imageDir?: string;
  /**
   * Picks the image folder once the JSON is read (e.g. from a header the file carries); wins over
   * `imageDir` when it returns a folder. @default none
   */
  resolveImageDir?: (data: CocoDataset) => string | undefined;
  /** Called for each skipped image. @default console.warn */
  onSkip?: (image: CocoImage, reason: string) => void;
}

export interface CocoDensePoseDataset {
  path: string;
  data: CocoDataset;
  /** Images kept (all, unless imageDir was checked). */
  images: CocoImage[];
  /** Annotations by image id, in file order. */
  annotationsByImage: Map<number, CocoAnnotation[]>;
  skipped: { image: CocoImage; reason: string }[];
  /** The folder images were checked in (undefined: not checked). */
  imageDir: string | undefined;
}

/** Read and validate a COCO-DensePose JSON file (and its images when `imageDir` is given). */
export async function loadCocoDensePose(path: string, options: LoadCocoDensePoseOptions = {}): Promise<CocoDensePoseDataset> {
  const data = loadCocoDensePoseJson(path);
  const skipped: { image: CocoImage; reason: string }[] = [];
  let images = data.images;
  const imageDir = options.resolveImageDir?.(data) ?? options.imageDir;
  if (imageDir) {
    const onSkip = options.onSkip ?? ((im: CocoImage, reason: string) => console.warn(`${path}: skipping image ${im.id} (${im.file_name}): ${reason}`));
    images = [];
    for (const im of data.images) {
      const file = join(imageDir, im.file_name);
      let reason: string | null = null;
      if (!existsSync(file)) reason = `missing file ${file}`;
      else {
        try {
          const meta = await sharp(file).metadata();
          if (meta.width !== im.width || meta.height !== im.height) reason = `file is ${meta.width}×${meta.height}, JSON says ${im.width}×${im.height}`;
          else await sharp(file).raw().toBuffer(); // decode fully: catches truncated files
        } catch (e) {
          reason = `does not decode: ${(e as Error).message}`;
        }
      }
      if (reason) {
        skipped.push({ image: im, reason });
        onSkip(im, reason);
      } else images.push(im);
    }
  }
  const keep = new Set(images.map((im) => im.id));
  const annotationsByImage = new Map<number, CocoAnnotation[]>(images.map((im) => [im.id, []]));
  for (const a of data.annotations) if (keep.has(a.image_id)) annotationsByImage.get(a.image_id)!.push(a);
  return { path, data, images, annotationsByImage, skipped, imageDir };
}
