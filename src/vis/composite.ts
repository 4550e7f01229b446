// Composes people's box-sized dense maps into one image-sized map. Every drawing and the
// whole-image IUV go through this, so "who owns a pixel" is decided in one place:
// people are painted in ascending score, foreground only, so the higher score wins where
// both are foreground (as DensePose's infer_simple writes its IUV image).
import { DensePoseError } from '../errors.ts';
import type { DensePosePerson } from './types.ts';

/** Image-sized composite, all planes row-major `[height, width]`. */
export interface IuvComposite {
  width: number;
  height: number;
  /** Part index 0..24 per pixel. */
  labels: Uint8Array;
  u: Float32Array;
  v: Float32Array;
  /** Index into the `people` array of the pixel's owner, −1 for background. */
  owner: Int32Array;
}

/** Image pixels covered by a box and, for each, the map row/column sampled (nearest, at pixel centres). */
export interface BoxRaster {
  /** Covered image columns `[x0, x1)` and rows `[y0, y1)`, clipped to the image. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** Map column for image column `x0 + k`. */
  cols: Int32Array;
  /** Map row for image row `y0 + k`. */
  rows: Int32Array;
}

/**
 * Pixels whose centre lies in `[x, x + w) × [y, y + h)`; map column `floor((px + 0.5 − x) · mapW / w)`.
 * For an integer box with a map of box size (the challenge format) that is the identity offset.
 */
export function boxRaster(box: readonly [number, number, number, number], mapW: number, mapH: number, imgW: number, imgH: number): BoxRaster {
  const [x, y, w, h] = box;
  const x0 = Math.max(0, Math.ceil(x - 0.5));
  const x1 = Math.min(imgW, Math.ceil(x + w - 0.5));
  const y0 = Math.max(0, Math.ceil(y - 0.5));
  const y1 = Math.min(imgH, Math.ceil(y + h - 0.5));
  const cols = new Int32Array(Math.max(0, x1 - x0));
  const rows = new Int32Array(Math.max(0, y1 - y0));
  for (let k = 0; k < cols.length; k++) cols[k] = Math.min(mapW - 1, Math.max(0, Math.floor((x0 + k + 0.5 - x) * mapW / w)));
  for (let k = 0; k < rows.length; k++) rows[k] = Math.min(mapH - 1, Math.max(0, Math.floor((y0 + k + 0.5 - y) * mapH / h)));
  return { x0, x1, y0, y1, cols, rows };
}

/** Throws unless the person's planes have `width·height` entries and a finite, positive box. */
export function validatePerson(p: DensePosePerson, index: number): void {
  const d = p.densepose;
  const n = d.width * d.height;
  const where = `person ${index}`;
  if (!(d.width > 0 && d.height > 0) || d.labels.length !== n || d.u.length !== n || d.v.length !== n) {
    throw new DensePoseError('SHAPE_MISMATCH', `densepose planes must have width·height = ${d.width}·${d.height} entries (labels ${d.labels.length}, u ${d.u.length}, v ${d.v.length})`, { where });
  }
  if (!p.box.every(Number.isFinite) || !(p.box[2] > 0 && p.box[3] > 0)) {
    throw new DensePoseError('BAD_INPUT', `box must be finite [x, y, w, h] with w, h > 0, got ${JSON.stringify(p.box)}`, { where });
  }
}

/**
 * One person's foreground (part > 0) at image size, row-major `[height, width]` of 0/1, pasted
 * exactly as {@link compositeIuv} pastes it (the instance mask `segm` evaluation scores).
 */
export function personMask(p: DensePosePerson, width: number, height: number): Uint8Array {
  validatePerson(p, 0);
  const d = p.densepose;
  const r = boxRaster(p.box, d.width, d.height, width, height);
  const mask = new Uint8Array(width * height);
  for (let py = r.y0; py < r.y1; py++) {
    const rowBase = r.rows[py - r.y0]! * d.width;
    for (let px = r.x0; px < r.x1; px++) if (d.labels[rowBase + r.cols[px - r.x0]!] !== 0) mask[py * width + px] = 1;
  }
  return mask;
}

/** Paint people onto one image-sized map, higher score over lower where both are foreground. */
export function compositeIuv(width: number, height: number, people: readonly DensePosePerson[]): IuvComposite {
  const n = width * height;
  const out: IuvComposite = { width, height, labels: new Uint8Array(n), u: new Float32Array(n), v: new Float32Array(n), owner: new Int32Array(n).fill(-1) };
  const order = people.map((_, i) => i).sort((a, b) => people[a]!.score - people[b]!.score || a - b);
  for (const i of order) {
    const p = people[i]!;
    validatePerson(p, i);
    const d = p.densepose;
    const r = boxRaster(p.box, d.width, d.height, width, height);
    for (let py = r.y0; py < r.y1; py++) {
      const rowBase = r.rows[py - r.y0]! * d.width;
      const outBase = py * width;
      for (let px = r.x0; px < r.x1; px++) {
        const k = rowBase + r.cols[px - r.x0]!;
        const label = d.labels[k]!;
        if (label === 0) continue;
        const o = outBase + px;
        out.labels[o] = label;
        out.u[o] = d.u[k]!;
        out.v[o] = d.v[k]!;
        out.owner[o] = i;
      }
    }
  }
  return out;
}

/** Byte of a chart coordinate as the challenge format stores it: round(255·c), c clamped to [0, 1]. */
export function uvByte(c: number): number {
  // `!(c > 0)` also sends NaN to 0.
  if (!(c > 0)) return 0;
  return c >= 1 ? 255 : Math.round(c * 255);
}

/** Whole-image IUV, interleaved `[height, width, 3]` bytes: I (0..24), U·255, V·255 — the PNG `infer` writes. */
export function wholeImageIUV(width: number, height: number, people: readonly DensePosePerson[]): Uint8Array {
  const c = compositeIuv(width, height, people);
  const out = new Uint8Array(3 * width * height);
  for (let o = 0; o < c.labels.length; o++) {
    const label = c.labels[o]!;
    if (label === 0) continue;
    out[3 * o] = label;
    out[3 * o + 1] = uvByte(c.u[o]!);
    out[3 * o + 2] = uvByte(c.v[o]!);
  }
  return out;
}
