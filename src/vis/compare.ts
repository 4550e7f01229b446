import { createCanvas } from '@napi-rs/canvas';
import { DensePoseError } from '../errors.ts';
import { imageFromCanvas, LABEL_FONT_FAMILY, putRgb } from './canvas.ts';
import { validateImage } from './image.ts';
import type { RgbImage } from './types.ts';

export interface CompareOptions {
  /** White space between panels, pixels. @default 8 */
  gap?: number;
  /** Title font size, pixels; the title strip is 1.8× as tall. @default 16 */
  fontSize?: number;
}

/**
 * Panels side by side on white, each under its centred title — the paper's "baseline vs ours"
 * figure. Panels keep their own size and are top-aligned.
 */
export function compareSideBySide(images: readonly RgbImage[], titles: readonly string[], options: CompareOptions = {}): RgbImage {
  if (images.length === 0) throw new DensePoseError('BAD_INPUT', 'compareSideBySide needs at least one image');
  if (titles.length !== images.length) throw new DensePoseError('BAD_INPUT', `compareSideBySide got ${images.length} images but ${titles.length} titles; give one title per image`);
  images.forEach((im, i) => validateImage(im, `image ${i}`));
  const gap = options.gap ?? 8;
  const fontSize = options.fontSize ?? 16;
  const titleH = Math.ceil(fontSize * 1.8);
  const width = images.reduce((s, im) => s + im.width, 0) + gap * (images.length - 1);
  const height = titleH + Math.max(...images.map((im) => im.height));
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.font = `${fontSize}px ${LABEL_FONT_FAMILY}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#000000';
  let x = 0;
  images.forEach((im, i) => {
    putRgb(ctx, im, x, titleH);
    ctx.fillText(titles[i]!, x + im.width / 2, titleH / 2, im.width);
    x += im.width + gap;
  });
  return imageFromCanvas(ctx, width, height);
}
