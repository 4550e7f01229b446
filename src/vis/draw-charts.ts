import { parula } from './colormap.ts';
import { compositeIuv } from './composite.ts';
import { cloneImage, validateImage } from './image.ts';
import type { DensePosePerson, RgbImage } from './types.ts';

export interface DrawChartOptions {
  /** Opacity of the colour over the image, 0..1. @default 0.8 */
  alpha?: number;
}

/** Parula colour of each byte value 0..255, `[256, 3]`. */
const RAMP: Uint8Array = (() => {
  const t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) t.set(parula(i / 255), 3 * i);
  return t;
})();

/**
 * The image with one chart coordinate (U or V, 0 → dark blue … 1 → yellow) coloured over every
 * person's foreground — detectron2 `apply_net show`'s `dp_u` / `dp_v`. A new image.
 */
export function drawChart(image: RgbImage, people: readonly DensePosePerson[], which: 'u' | 'v', options: DrawChartOptions = {}): RgbImage {
  validateImage(image);
  const a = Math.min(1, Math.max(0, options.alpha ?? 0.8));
  const out = cloneImage(image);
  const c = compositeIuv(image.width, image.height, people);
  const plane = which === 'u' ? c.u : c.v;
  const d = out.data;
  for (let o = 0; o < c.labels.length; o++) {
    if (c.labels[o] === 0) continue;
    const x = plane[o]!;
    const k = 3 * Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0)));
    for (let ch = 0; ch < 3; ch++) d[3 * o + ch] = Math.round((1 - a) * d[3 * o + ch]! + a * RAMP[k + ch]!);
  }
  return out;
}
