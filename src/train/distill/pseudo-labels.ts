// A fused person → a COCO-DensePose annotation: box, score, a regular lattice of dense points with a
// confidence each (`dp_conf`), and the 14 coarse masks.
import type { CocoAnnotation } from '../../data/coco.ts';
import { encodeMask } from '../../data/mask.ts';
import type { FusedChart } from './fuse-charts.ts';

/** Fine part (1..24) → coarse part (1..14) of `dp_masks` (DESIGN.md §1). */
export const FINE_TO_COARSE = Uint8Array.of(0, 1, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 14);

export interface PseudoLabelOptions {
  /** Most dense points per person; the lattice is the densest regular one with at most this many foreground points. @default 150 */
  maxPoints?: number;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * Lattice step s: cells with `i % s === s >> 1` in both directions. The smallest s whose lattice holds
 * at most `maxPoints` foreground cells.
 */
function latticeStep(labels: Uint8Array, h: number, w: number, maxPoints: number): number {
  for (let s = 1; ; s++) {
    let count = 0;
    for (let y = s >> 1; y < h; y += s) for (let x = s >> 1; x < w; x += s) if (labels[y * w + x]) count++;
    if (count <= maxPoints) return s;
  }
}

/**
 * The annotation of one pseudo-labelled person. `box` xyxy in image pixels; the chart's grid covers
 * it. Points sit at lattice cell centres, dp_x = (x + 0.5)/w·255 (COCO's 255 frame); masks are the
 * grid's coarse parts resampled (nearest) to 256×256. A person with no foreground gets box and score only.
 */
export function pseudoAnnotation(chart: FusedChart, box: ArrayLike<number>, score: number, ids: { id: number; imageId: number }, options: PseudoLabelOptions = {}): CocoAnnotation {
  const [x1, y1, x2, y2] = [box[0]!, box[1]!, box[2]!, box[3]!];
  const bbox: [number, number, number, number] = [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)];
  const ann: CocoAnnotation = { id: ids.id, image_id: ids.imageId, category_id: 1, bbox, area: round(bbox[2] * bbox[3], 2), iscrowd: 0, score: round(score, 4) };
  const { labels, width: w, height: h } = chart;
  if (!labels.some((l) => l > 0)) return ann;
  const s = latticeStep(labels, h, w, options.maxPoints ?? 150);
  const dp = { dp_x: [] as number[], dp_y: [] as number[], dp_I: [] as number[], dp_U: [] as number[], dp_V: [] as number[], dp_conf: [] as number[] };
  for (let y = s >> 1; y < h; y += s) {
    for (let x = s >> 1; x < w; x += s) {
      const c = y * w + x;
      const I = labels[c]!;
      if (!I) continue;
      dp.dp_x.push(round(((x + 0.5) / w) * 255, 2));
      dp.dp_y.push(round(((y + 0.5) / h) * 255, 2));
      dp.dp_I.push(I);
      dp.dp_U.push(round(chart.u[c]!, 4));
      dp.dp_V.push(round(chart.v[c]!, 4));
      dp.dp_conf.push(round(chart.confidence[c]!, 4));
    }
  }
  const coarse = new Uint8Array(256 * 256);
  for (let my = 0; my < 256; my++) {
    const row = Math.min(Math.floor(((my + 0.5) / 256) * h), h - 1) * w;
    for (let mx = 0; mx < 256; mx++) coarse[my * 256 + mx] = FINE_TO_COARSE[labels[row + Math.min(Math.floor(((mx + 0.5) / 256) * w), w - 1)]!]!;
  }
  const mask = new Uint8Array(256 * 256);
  const dp_masks: CocoAnnotation['dp_masks'] = [];
  for (let part = 1; part <= 14; part++) {
    let any = false;
    for (let i = 0; i < mask.length; i++) any = (mask[i] = coarse[i] === part ? 1 : 0) === 1 || any;
    dp_masks.push(any ? encodeMask(mask, 256, 256) : []);
  }
  return { ...ann, ...dp, dp_masks };
}
