import { compositeIuv } from './composite.ts';
import { cloneImage, validateImage } from './image.ts';
import type { DensePosePerson, RgbImage } from './types.ts';

export interface UvIsolineOptions {
  /** At most this many bands per chart: contours at U (and V) = k/levels. @default 10 */
  levels?: number;
  /**
   * Fewer bands on small parts: a part about `s` pixels across gets at most `s / minSpacing` bands,
   * so lines stay this far apart and do not merge into hatching. 0 = always `levels`. @default 6
   */
  minSpacing?: number;
  /** Colour of U contours. @default [255, 80, 40] */
  uColor?: readonly [number, number, number];
  /** Colour of V contours. @default [40, 200, 255] */
  vColor?: readonly [number, number, number];
  /** Which coordinates to contour. @default 'uv' */
  which?: 'u' | 'v' | 'uv';
  /** Darken people's pixels by this fraction under the lines, so the lines read on any image. @default 0.55 */
  dim?: number;
  /** Colour of each person's outline (null: none). @default [255, 255, 255] */
  borderColor?: readonly [number, number, number] | null;
}

/**
 * The image with U and V contour lines (detectron2 `apply_net show`'s `dp_contour`): a pixel is on
 * a U line when it and its right or lower neighbour belong to the same person and part and their U
 * fall in different bands `floor(U·n)`, n = the part's band count. Lines never cross part or person
 * borders (U, V are per chart); each person is outlined and their pixels are darkened under the
 * lines. A new image.
 */
export function drawUvIsolines(image: RgbImage, people: readonly DensePosePerson[], options: UvIsolineOptions = {}): RgbImage {
  validateImage(image);
  const levels = Math.max(1, Math.floor(options.levels ?? 10));
  const minSpacing = Math.max(0, options.minSpacing ?? 6);
  const uColor = options.uColor ?? [255, 80, 40];
  const vColor = options.vColor ?? [40, 200, 255];
  const which = options.which ?? 'uv';
  const dim = Math.min(1, Math.max(0, options.dim ?? 0.55));
  const border = options.borderColor === undefined ? ([255, 255, 255] as const) : options.borderColor;
  const { width: w, height: h } = image;
  const c = compositeIuv(w, h, people);
  const out = cloneImage(image);
  // Band count per (person, part) from the part's pixel area: about sqrt(area) pixels across.
  const key = (o: number): number => (c.owner[o]! + 1) * 32 + c.labels[o]!;
  const area = new Map<number, number>();
  for (let o = 0; o < c.labels.length; o++) if (c.labels[o] !== 0) area.set(key(o), (area.get(key(o)) ?? 0) + 1);
  const bands = new Map<number, number>();
  for (const [k, a] of area) bands.set(k, minSpacing > 0 ? Math.max(1, Math.min(levels, Math.floor(Math.sqrt(a) / minSpacing))) : levels);
  for (let o = 0; o < c.labels.length; o++) {
    if (c.labels[o] === 0) continue;
    for (let ch = 0; ch < 3; ch++) out.data[3 * o + ch] = Math.round((1 - dim) * out.data[3 * o + ch]!);
  }
  const band = (x: number, n: number): number => Math.min(n - 1, Math.max(0, Math.floor(x * n)));
  const same = (o: number, q: number): boolean => c.labels[q] === c.labels[o] && c.owner[q] === c.owner[o];
  const mark = (plane: Float32Array, color: readonly [number, number, number]): void => {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = y * w + x;
        if (c.labels[o] === 0) continue;
        const n = bands.get(key(o))!;
        if (n < 2) continue;
        const b = band(plane[o]!, n);
        const on = (x + 1 < w && same(o, o + 1) && band(plane[o + 1]!, n) !== b) || (y + 1 < h && same(o, o + w) && band(plane[o + w]!, n) !== b);
        if (on) out.data.set(color, 3 * o);
      }
    }
  };
  if (which !== 'v') mark(c.u, uColor);
  if (which !== 'u') mark(c.v, vColor);
  if (border) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = y * w + x;
        if (c.labels[o] === 0) continue;
        // The person's outline only: inner part borders of a noisy prediction would bury the lines.
        const out_ = (q: number): boolean => c.labels[q] === 0 || c.owner[q] !== c.owner[o];
        const edge = (x + 1 < w && out_(o + 1)) || (y + 1 < h && out_(o + w)) || (x > 0 && out_(o - 1)) || (y > 0 && out_(o - w)) || x === 0 || y === 0 || x === w - 1 || y === h - 1;
        if (edge) out.data.set(border, 3 * o);
      }
    }
  }
  return out;
}
