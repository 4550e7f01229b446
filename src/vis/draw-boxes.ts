import { canvasFromImage, imageFromCanvas, LABEL_FONT_FAMILY } from './canvas.ts';
import { validateImage } from './image.ts';
import type { DensePosePerson, RgbImage } from './types.ts';

export interface DrawBoxesOptions {
  /** Box and label background colour, CSS. @default '#00e060' */
  color?: string;
  /** Line width in pixels. @default 2 */
  lineWidth?: number;
  /** Label font size in pixels. @default 12 */
  fontSize?: number;
  /** Label text for a person. @default score with two decimals, e.g. "0.93" */
  label?: (person: DensePosePerson, index: number) => string;
}

/** The image with each person's box outlined and its score written on a tab above the box's top-left corner; a new image. */
export function drawBoxes(image: RgbImage, people: readonly DensePosePerson[], options: DrawBoxesOptions = {}): RgbImage {
  validateImage(image);
  const color = options.color ?? '#00e060';
  const lineWidth = options.lineWidth ?? 2;
  const fontSize = options.fontSize ?? 12;
  const label = options.label ?? ((p: DensePosePerson) => p.score.toFixed(2));
  const { ctx } = canvasFromImage(image);
  ctx.font = `${fontSize}px ${LABEL_FONT_FAMILY}`;
  ctx.textBaseline = 'top';
  people.forEach((p, i) => {
    const [x, y, w, h] = p.box;
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.strokeRect(x, y, w, h);
    const text = label(p, i);
    const tw = ctx.measureText(text).width + 4;
    const th = fontSize + 4;
    // Above the box when there is room, else just inside it.
    const ty = y - th >= 0 ? y - th : y;
    const tx = Math.min(Math.max(0, x - lineWidth / 2), Math.max(0, image.width - tw));
    ctx.fillStyle = color;
    ctx.fillRect(tx, ty, tw, th);
    ctx.fillStyle = '#000000';
    ctx.fillText(text, tx + 2, ty + 2);
  });
  return imageFromCanvas(ctx, image.width, image.height);
}
