import { canvasFromImage, imageFromCanvas, LABEL_FONT_FAMILY } from './canvas.ts';
import { validateImage } from './image.ts';
import { placeLabels } from './label-placement.ts';
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

/**
 * The image with each person's box outlined and its score on a tab at the box's top-left corner;
 * where boxes cluster, tabs move (see {@link placeLabels}) so none hides another. A new image.
 */
export function drawBoxes(image: RgbImage, people: readonly DensePosePerson[], options: DrawBoxesOptions = {}): RgbImage {
  validateImage(image);
  const color = options.color ?? '#00e060';
  const lineWidth = options.lineWidth ?? 2;
  const fontSize = options.fontSize ?? 12;
  const label = options.label ?? ((p: DensePosePerson) => p.score.toFixed(2));
  const { ctx } = canvasFromImage(image);
  ctx.font = `${fontSize}px ${LABEL_FONT_FAMILY}`;
  ctx.textBaseline = 'top';
  ctx.strokeStyle = color;
  ctx.lineWidth = lineWidth;
  for (const p of people) ctx.strokeRect(p.box[0], p.box[1], p.box[2], p.box[3]);
  // Higher scores choose first, so the most confident people keep the usual spot.
  const order = people.map((_, i) => i).sort((a, b) => people[b]!.score - people[a]!.score || a - b);
  const texts = order.map((i) => label(people[i]!, i));
  const sizes = texts.map((t) => [Math.ceil(ctx.measureText(t).width) + 4, fontSize + 4] as [number, number]);
  const tabs = placeLabels(order.map((i) => people[i]!.box), sizes, image.width, image.height);
  tabs.forEach(([tx, ty, tw, th], k) => {
    ctx.fillStyle = color;
    ctx.fillRect(tx, ty, tw, th);
    ctx.fillStyle = '#000000';
    ctx.fillText(texts[k]!, tx + 2, ty + 2);
  });
  return imageFromCanvas(ctx, image.width, image.height);
}
