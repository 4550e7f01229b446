import { PART_COLORS } from './colormap.ts';
import { compositeIuv } from './composite.ts';
import { cloneImage, validateImage } from './image.ts';
import type { DensePosePerson, RgbImage } from './types.ts';

export interface DrawPartsOptions {
  /** Opacity of the part colours over the image, 0..1. @default 0.7 */
  alpha?: number;
}

/** The image with each person's part colours (PART_COLORS) blended over their foreground pixels; a new image. */
export function drawParts(image: RgbImage, people: readonly DensePosePerson[], options: DrawPartsOptions = {}): RgbImage {
  validateImage(image);
  const a = Math.min(1, Math.max(0, options.alpha ?? 0.7));
  const out = cloneImage(image);
  // Blend once per pixel from the composite, so overlapping people do not darken twice.
  const c = compositeIuv(image.width, image.height, people);
  const d = out.data;
  for (let o = 0; o < c.labels.length; o++) {
    const label = c.labels[o]!;
    if (label === 0) continue;
    for (let ch = 0; ch < 3; ch++) {
      const k = 3 * o + ch;
      d[k] = Math.round((1 - a) * d[k]! + a * PART_COLORS[3 * label + ch]!);
    }
  }
  return out;
}
