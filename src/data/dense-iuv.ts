// Dense DensePose ground truth: our extension of COCO-DensePose (docs/dense-targets.md). An
// annotation's `dp_dense` points at a PNG of per-pixel I, U, V (and optionally a confidence), so
// training can supervise every foreground pixel instead of ~100 sampled points.
import sharp from 'sharp';
import { DensePoseError } from '../errors.ts';
import { decodeMask } from './mask.ts';
import type { Rle } from './mask.ts';

/**
 * The `dp_dense` field of a person annotation.
 * - `iuv`: PNG path relative to the folder of the annotation JSON. Channels R = I (0 background, 1..24),
 *   G = round(U·255), B = round(V·255); an optional alpha channel is the per-pixel confidence·255
 *   (pseudo-labels); without alpha every pixel has confidence 1.
 * - `region`: `[x, y, w, h]` in image pixels: the rectangle the PNG spans (its pixel size may differ;
 *   PNG pixel (c, r) covers `x + c·w/W … x + (c+1)·w/W`). Synthetic sets: the whole image `[0, 0, W, H]`;
 *   pseudo-labels: the person's box.
 * - `mask`: `"segmentation"` when the PNG is shared by several people (a whole-image IUV): only pixels
 *   inside the annotation's `segmentation` (an RLE) are this person's. Absent: every pixel of the PNG
 *   with I > 0 is this person's.
 */
export interface DenseIuvRef {
  iuv: string;
  region: [number, number, number, number];
  mask?: 'segmentation';
}

/**
 * One person's dense labels in memory, on a `height×width` map that spans the person's GT box (the box's
 * own frame, like `dp_masks`' 256×256): map pixel (c, r) covers box fractions `[c/width, (c+1)/width)`.
 * Resizing the image keeps it as is; a horizontal flip mirrors it (see flipDenseIuv).
 */
export interface DenseIuv {
  width: number;
  height: number;
  /** `[height·width]` row-major part 0..24 (0 = background). */
  i: Uint8Array;
  /** `[height·width]` chart coordinates in [0, 1] (0 where I = 0). */
  u: Float32Array;
  v: Float32Array;
  /** `[height·width]` confidence in [0, 1] of each pixel's label (I, U, V alike); null = 1 everywhere. */
  confidence: Float32Array | null;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Check a `dp_dense` value; throws BAD_INPUT naming `where` and the sub-field. */
export function validateDenseRef(value: unknown, hasRleSegmentation: boolean, where: string): asserts value is DenseIuvRef {
  const at = (k: string) => `${where} field "dp_dense.${k}"`;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DensePoseError('BAD_INPUT', 'must be an object {iuv, region[, mask]}', { where: `${where} field "dp_dense"` });
  const d = value as Record<string, unknown>;
  if (typeof d.iuv !== 'string' || d.iuv === '' || d.iuv.startsWith('/') || /^[A-Za-z]:/.test(d.iuv)) {
    throw new DensePoseError('BAD_INPUT', `must be a PNG path relative to the annotation file, got ${JSON.stringify(d.iuv)}`, { where: at('iuv') });
  }
  const r = d.region;
  if (!Array.isArray(r) || r.length !== 4 || !r.every(isNum) || !((r[2] as number) > 0) || !((r[3] as number) > 0)) {
    throw new DensePoseError('BAD_INPUT', `must be [x, y, w, h] with w, h > 0, got ${JSON.stringify(r)}`, { where: at('region') });
  }
  if (d.mask !== undefined && d.mask !== 'segmentation') throw new DensePoseError('BAD_INPUT', `Unknown mask ${JSON.stringify(d.mask)}. Expected one of: segmentation (or no "mask").`, { where: at('mask') });
  if (d.mask === 'segmentation' && !hasRleSegmentation) throw new DensePoseError('BAD_INPUT', '"segmentation" needs the annotation\'s segmentation as an RLE', { where: at('mask') });
  for (const k of Object.keys(d)) if (!['iuv', 'region', 'mask'].includes(k)) throw new DensePoseError('UNEXPECTED_KEY', `unknown key "${k}" (expected iuv, region, mask)`, { where: `${where} field "dp_dense"` });
}

/** Decoded PNG planes: `[H·W·C]` interleaved, C = 3 or 4. */
export interface IuvPng {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

/** Read an IUV(+confidence) PNG; BAD_FILE naming the file when it does not decode or has the wrong channels. */
export async function readIuvPng(file: string): Promise<IuvPng> {
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `dense IUV PNG does not decode: ${(e as Error).message}`, { where: file, cause: e });
  }
  const c = out.info.channels;
  if (c !== 3 && c !== 4) throw new DensePoseError('BAD_FILE', `dense IUV PNG has ${c} channels, expected 3 (I, U, V) or 4 (+ confidence)`, { where: file });
  return { width: out.info.width, height: out.info.height, channels: c, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength) };
}

/**
 * Resample a decoded `dp_dense` PNG onto a map spanning the box `[x, y, w, h]` (nearest: each map pixel
 * takes the PNG pixel under its centre). The map keeps the PNG's resolution over the box, so a PNG that
 * spans exactly the box (pseudo-labels) or a pixel-aligned box of a whole-image PNG (synthetic sets)
 * comes back pixel for pixel. `segmentation` (row-major `[imageH, imageW]` 0/1, with its width) keeps
 * only this person's pixels. Pixels outside the PNG's region are background with confidence 1.
 */
export function denseFromPng(png: IuvPng, ref: DenseIuvRef, box: readonly [number, number, number, number], segmentation?: { mask: Uint8Array; width: number; height: number }): DenseIuv {
  const [rx, ry, rw, rh] = ref.region;
  const [bx, by, bw, bh] = box;
  const mw = Math.max(1, Math.round((bw * png.width) / rw));
  const mh = Math.max(1, Math.round((bh * png.height) / rh));
  const n = mw * mh;
  const out: DenseIuv = { width: mw, height: mh, i: new Uint8Array(n), u: new Float32Array(n), v: new Float32Array(n), confidence: png.channels === 4 ? new Float32Array(n).fill(1) : null };
  const cols = new Int32Array(mw);
  const imgCols = new Int32Array(mw);
  for (let c = 0; c < mw; c++) {
    const x = bx + ((c + 0.5) * bw) / mw;
    cols[c] = Math.floor(((x - rx) * png.width) / rw);
    imgCols[c] = Math.floor(x);
  }
  for (let r = 0; r < mh; r++) {
    const y = by + ((r + 0.5) * bh) / mh;
    const pr = Math.floor(((y - ry) * png.height) / rh);
    if (pr < 0 || pr >= png.height) continue;
    const iy = Math.floor(y);
    for (let c = 0; c < mw; c++) {
      const pc = cols[c]!;
      if (pc < 0 || pc >= png.width) continue;
      const o = r * mw + c;
      const s = (pr * png.width + pc) * png.channels;
      if (out.confidence) out.confidence[o] = png.data[s + 3]! / 255;
      const part = png.data[s]!;
      if (part === 0) continue;
      if (segmentation) {
        const ix = imgCols[c]!;
        if (iy < 0 || iy >= segmentation.height || ix < 0 || ix >= segmentation.width || !segmentation.mask[iy * segmentation.width + ix]) continue;
      }
      if (part > 24) throw new DensePoseError('BAD_FILE', `dense IUV PNG has part ${part} at pixel (${pc}, ${pr}); parts are 0..24`, { where: ref.iuv });
      out.i[o] = part;
      out.u[o] = png.data[s + 1]! / 255;
      out.v[o] = png.data[s + 2]! / 255;
    }
  }
  return out;
}

/** Decode the annotation's RLE segmentation for {@link denseFromPng} (`mask: "segmentation"`). */
export function segmentationMask(rle: Rle): { mask: Uint8Array; width: number; height: number } {
  const [height, width] = rle.size;
  return { mask: decodeMask(rle), width, height };
}

/**
 * The PNG bytes of a dense label map: RGB = I, round(U·255), round(V·255), plus alpha = round(confidence·255)
 * when the map has a confidence. `region` of its `dp_dense` is the box it spans.
 */
export async function encodeDenseIuvPng(map: DenseIuv): Promise<Buffer> {
  const c = map.confidence ? 4 : 3;
  const n = map.width * map.height;
  const px = new Uint8Array(n * c);
  for (let k = 0; k < n; k++) {
    const part = map.i[k]!;
    px[c * k] = part;
    if (part > 0) {
      px[c * k + 1] = Math.round(Math.min(1, Math.max(0, map.u[k]!)) * 255);
      px[c * k + 2] = Math.round(Math.min(1, Math.max(0, map.v[k]!)) * 255);
    }
    if (map.confidence) px[c * k + 3] = Math.round(Math.min(1, Math.max(0, map.confidence[k]!)) * 255);
  }
  return sharp(px, { raw: { width: map.width, height: map.height, channels: c } }).png({ compressionLevel: 9 }).toBuffer();
}

/**
 * Mirror a dense map horizontally (the box about the image axis is the caller's): pixel (c, r) → (W−1−c, r),
 * each part and (U, V) through `flipPoint` (the body's left/right symmetry).
 */
export function flipDenseIuv(map: DenseIuv, flipPoint: (i: number, u: number, v: number) => [number, number, number]): DenseIuv {
  const { width: w, height: h } = map;
  const out: DenseIuv = { width: w, height: h, i: new Uint8Array(w * h), u: new Float32Array(w * h), v: new Float32Array(w * h), confidence: map.confidence ? new Float32Array(w * h) : null };
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const s = r * w + c;
      const d = r * w + (w - 1 - c);
      if (out.confidence) out.confidence[d] = map.confidence![s]!;
      const part = map.i[s]!;
      if (part === 0) continue;
      const [i, u, v] = flipPoint(part, map.u[s]!, map.v[s]!);
      out.i[d] = i;
      out.u[d] = u;
      out.v[d] = v;
    }
  }
  return out;
}
