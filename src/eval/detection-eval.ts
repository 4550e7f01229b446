// Box and mask AP/AR exactly as pycocotools' COCOeval (iouType 'bbox' / 'segm').
import { bboxIou, rleIou, rleRuns, segmentationToRle, polygonToRuns } from '../data/mask.ts';
import type { RleRuns } from '../data/mask.ts';
import type { CocoAnnotation, CocoDataset, LoadedResult } from '../data/coco.ts';
import { detectionParams, evaluateCells, sortByScore, summarizeDetection, DETECTION_STAT_NAMES } from './coco-eval.ts';
import type { Accumulated, EvalCell, EvalParams } from './coco-eval.ts';

export type DetectionIouType = 'bbox' | 'segm';

/** Options of {@link evaluateDetections}. */
export interface DetectionEvalOptions {
  /** @default detectionParams() */
  params?: EvalParams;
}

export interface DetectionEvalResult {
  iouType: DetectionIouType;
  /** The 12 COCOeval stats, named by {@link DETECTION_STAT_NAMES}. */
  stats: number[];
  named: Record<(typeof DETECTION_STAT_NAMES)[number], number>;
  accumulated: Accumulated;
}

/** Group items by (image, category) keeping their order. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** COCO bbox or segm evaluation of `results` against `gt`. */
export function evaluateDetections(gt: CocoDataset, results: readonly LoadedResult[], iouType: DetectionIouType, options: DetectionEvalOptions = {}): DetectionEvalResult {
  const params = options.params ?? detectionParams();
  const maxDet = params.maxDets[params.maxDets.length - 1]!;
  const imageIds = [...new Set(gt.images.map((im) => im.id))].sort((a, b) => a - b);
  const catIds = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const size = new Map(gt.images.map((im) => [im.id, [im.height, im.width] as const]));
  const gts = groupBy(gt.annotations, (a) => `${a.image_id}/${a.category_id}`);
  const dts = groupBy(results, (r) => `${r.image_id}/${r.category_id}`);
  const gtMask = (a: CocoAnnotation): RleRuns => {
    const [h, w] = size.get(a.image_id)!;
    return rleRuns(segmentationToRle(a.segmentation, h, w, `annotation id ${a.id} field "segmentation"`));
  };
  const dtMask = (r: LoadedResult): RleRuns => {
    const [h, w] = size.get(r.image_id)!;
    if (r.segmentation !== undefined) return rleRuns(segmentationToRle(r.segmentation, h, w, `result ${r.index} "segmentation"`));
    // loadRes gives a box-only result the box's outline as its polygon.
    const [x, y, bw, bh] = r.bbox;
    return polygonToRuns([x, y, x, y + bh, x + bw, y + bh, x + bw, y], h, w);
  };
  const cells = new Map<number, (EvalCell | null)[]>();
  for (const cat of catIds) {
    cells.set(cat, imageIds.map((img) => {
      const g = gts.get(`${img}/${cat}`) ?? [];
      const d = sortByScore(dts.get(`${img}/${cat}`) ?? []).slice(0, maxDet);
      if (g.length === 0 && d.length === 0) return null;
      const crowd = g.map((a) => a.iscrowd === 1);
      let sim: Float64Array;
      if (g.length === 0 || d.length === 0) sim = new Float64Array(0);
      else if (iouType === 'bbox') sim = bboxIou(d.map((r) => r.bbox), g.map((a) => a.bbox), crowd);
      else sim = rleIou(d.map(dtMask), g.map(gtMask), crowd);
      return {
        imageId: img,
        categoryId: cat,
        gts: g.map((a) => ({ id: a.id, area: a.area, iscrowd: a.iscrowd === 1, ignore: a.iscrowd === 1 })),
        dts: d.map((r) => ({ id: r.id, area: r.area, score: r.score })),
        sim,
      };
    }));
  }
  const accumulated = evaluateCells(cells, params, false);
  const stats = summarizeDetection(accumulated);
  const named = Object.fromEntries(DETECTION_STAT_NAMES.map((n, i) => [n, stats[i]!])) as DetectionEvalResult['named'];
  return { iouType, stats, named, accumulated };
}
