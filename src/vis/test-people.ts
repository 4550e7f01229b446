// Hand-made people for vis tests and examples: a stick-figure-like layout of parts inside a box,
// with U running left→right and V top→bottom inside each part's rectangle.
import type { DensePosePerson, RgbImage } from './types.ts';

/** Part rectangles in box-fraction coordinates [x0, y0, x1, y1] → part index. */
const LAYOUT: readonly (readonly [number, number, number, number, number])[] = [
  [0.35, 0.0, 0.5, 0.16, 24], // head left
  [0.5, 0.0, 0.65, 0.16, 23], // head right
  [0.3, 0.16, 0.7, 0.5, 2], // torso front
  [0.1, 0.16, 0.3, 0.33, 15], // upper arm left
  [0.7, 0.16, 0.9, 0.33, 16], // upper arm right
  [0.1, 0.33, 0.3, 0.48, 19], // lower arm left
  [0.7, 0.33, 0.9, 0.48, 20], // lower arm right
  [0.08, 0.48, 0.3, 0.55, 4], // left hand
  [0.7, 0.48, 0.92, 0.55, 3], // right hand
  [0.3, 0.5, 0.5, 0.72, 10], // upper leg left
  [0.5, 0.5, 0.7, 0.72, 9], // upper leg right
  [0.3, 0.72, 0.5, 0.93, 14], // lower leg left
  [0.5, 0.72, 0.7, 0.93, 13], // lower leg right
  [0.25, 0.93, 0.5, 1.0, 5], // left foot
  [0.5, 0.93, 0.75, 1.0, 6], // right foot
];

/** A person in box `[x, y, w, h]` (integers) with a box-sized map. */
export function makePerson(box: [number, number, number, number], score: number): DensePosePerson {
  const [, , w, h] = box;
  const labels = new Uint8Array(w * h);
  const u = new Float32Array(w * h);
  const v = new Float32Array(w * h);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const fx = (c + 0.5) / w;
      const fy = (r + 0.5) / h;
      for (const [x0, y0, x1, y1, part] of LAYOUT) {
        if (fx >= x0 && fx < x1 && fy >= y0 && fy < y1) {
          const k = r * w + c;
          labels[k] = part;
          u[k] = (fx - x0) / (x1 - x0);
          v[k] = (fy - y0) / (y1 - y0);
          break;
        }
      }
    }
  }
  return { box, score, densepose: { width: w, height: h, labels, u, v } };
}

/** A smooth colour gradient image. */
export function makeImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(3 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = 3 * (y * width + x);
      data[k] = Math.round((255 * x) / Math.max(1, width - 1));
      data[k + 1] = Math.round((255 * y) / Math.max(1, height - 1));
      data[k + 2] = 128;
    }
  }
  return { width, height, data };
}
