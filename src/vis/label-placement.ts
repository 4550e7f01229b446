// Where score tabs go so that none hides another; no canvas here, so the browser page uses it too.

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
