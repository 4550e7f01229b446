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

/** An axis-aligned rectangle [x, y, w, h] in pixels. */
export type Rect = [number, number, number, number];

const overlaps = (a: Rect, b: Rect): boolean => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];

/**
 * Where each box's label tab goes, so that no two tabs overlap: people in descending score order
 * take the first free spot of: above the box's top-left corner, just inside it, below the box,
 * inside its bottom; then the same places slid right or down in tab-sized steps. Tabs stay inside
 * the image. `sizes[i]` is tab i's [width, height].
 */
export function placeLabels(boxes: readonly (readonly [number, number, number, number])[], sizes: readonly [number, number][], imageWidth: number, imageHeight: number): Rect[] {
  const order = boxes.map((_, i) => i);
  const placed: Rect[] = [];
  const out: Rect[] = new Array(boxes.length);
  const clampX = (x: number, tw: number) => Math.min(Math.max(0, x), Math.max(0, imageWidth - tw));
  const clampY = (y: number, th: number) => Math.min(Math.max(0, y), Math.max(0, imageHeight - th));
  for (const i of order) {
    const [x, y, , h] = boxes[i]!;
    const [tw, th] = sizes[i]!;
    const anchors: [number, number][] = [[x, y - th], [x, y], [x, y + h], [x, y + h - th]];
    let chosen: Rect | undefined;
    for (let step = 0; step < 40 && !chosen; step++) {
      for (const [ax, ay] of anchors) {
        // Slide along the box's top/bottom edge first, then downward.
        const dx = (step % 8) * tw;
        const dy = Math.floor(step / 8) * th;
        const r: Rect = [clampX(ax + dx, tw), clampY(ay + dy, th), tw, th];
        if (!placed.some((p) => overlaps(p, r))) {
          chosen = r;
          break;
        }
      }
    }
    chosen ??= [clampX(x, tw), clampY(y - th, th), tw, th];
    placed.push(chosen);
    out[i] = chosen;
  }
  return out;
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
