// RGB ⇄ @napi-rs/canvas. Text and anti-aliased lines come from Skia; pixels stay our RgbImage.
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { RgbImage } from './types.ts';

/** Font stack for labels; DejaVu Sans ships with Debian and most Linux images. */
export const LABEL_FONT_FAMILY = 'DejaVu Sans, Arial, sans-serif';

/** A canvas of the image's size with the image drawn on it. */
export function canvasFromImage(image: RgbImage): { canvas: Canvas; ctx: SKRSContext2D } {
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  putRgb(ctx, image, 0, 0);
  return { canvas, ctx };
}

/** Draw an RGB image at (x, y) of the context, opaque. */
export function putRgb(ctx: SKRSContext2D, image: RgbImage, x: number, y: number): void {
  const n = image.width * image.height;
  const img = ctx.createImageData(image.width, image.height);
  const rgba = img.data;
  const src = image.data;
  for (let i = 0; i < n; i++) {
    rgba[4 * i] = src[3 * i]!;
    rgba[4 * i + 1] = src[3 * i + 1]!;
    rgba[4 * i + 2] = src[3 * i + 2]!;
    rgba[4 * i + 3] = 255;
  }
  ctx.putImageData(img, x, y);
}

/** The whole canvas back as RGB (it is opaque everywhere we draw, so alpha is dropped). */
export function imageFromCanvas(ctx: SKRSContext2D, width: number, height: number): RgbImage {
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const n = width * height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    data[3 * i] = rgba[4 * i]!;
    data[3 * i + 1] = rgba[4 * i + 1]!;
    data[3 * i + 2] = rgba[4 * i + 2]!;
  }
  return { width, height, data };
}
