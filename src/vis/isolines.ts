import { compositeIuv } from './composite.ts';
import { cloneImage, validateImage } from './image.ts';
import type { DensePosePerson, RgbImage } from './types.ts';

export interface UvIsolineOptions {
  /** Contours at U (and V) = k/levels, k = 1..levels−1. @default 10 */
  levels?: number;
  /** Colour of U contours. @default [255, 64, 64] */
  uColor?: readonly [number, number, number];
  /** Colour of V contours. @default [64, 160, 255] */
  vColor?: readonly [number, number, number];
  /** Which coordinates to contour. @default 'uv' */
  which?: 'u' | 'v' | 'uv';
}

/**
 * The image with U and V contour lines: a pixel is on the U line k/levels when it and its right or
 * lower neighbour belong to the same person and part and their U fall in different bands
 * `floor(U·levels)`. Lines never cross part or person borders (U, V are per chart). A new image.
 */
export function drawUvIsolines(image: RgbImage, people: readonly DensePosePerson[], options: UvIsolineOptions = {}): RgbImage {
  validateImage(image);
  const levels = Math.max(1, Math.floor(options.levels ?? 10));
  const uColor = options.uColor ?? [255, 64, 64];
  const vColor = options.vColor ?? [64, 160, 255];
  const which = options.which ?? 'uv';
  const { width: w, height: h } = image;
  const c = compositeIuv(w, h, people);
  const out = cloneImage(image);
  const band = (x: number): number => Math.min(levels - 1, Math.max(0, Math.floor(x * levels)));
  const mark = (plane: Float32Array, color: readonly [number, number, number]): void => {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = y * w + x;
        const label = c.labels[o]!;
        if (label === 0) continue;
        const b = band(plane[o]!);
        let on = false;
        if (x + 1 < w && c.labels[o + 1] === label && c.owner[o + 1] === c.owner[o] && band(plane[o + 1]!) !== b) on = true;
        else if (y + 1 < h && c.labels[o + w] === label && c.owner[o + w] === c.owner[o] && band(plane[o + w]!) !== b) on = true;
        if (on) out.data.set(color, 3 * o);
      }
    }
  };
  if (which !== 'v') mark(c.u, uColor);
  if (which !== 'u') mark(c.v, vColor);
  return out;
}
