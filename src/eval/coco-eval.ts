// COCOeval: per-image greedy matching, accumulation into precision/recall and the summary stats,
// with pycocotools' semantics (and, for DensePose, the changes detectron2's DensePoseCocoEval makes).
import { DensePoseError } from '../errors.ts';

/** Evaluation parameters (pycocotools `Params`). */
export interface EvalParams {
  /** Matching thresholds, e.g. 0.50:0.05:0.95. */
  iouThrs: Float64Array;
  /** Recall points of the precision curve, 0:0.01:1. */
  recThrs: Float64Array;
  /** Ascending maximum detections per image. */
  maxDets: number[];
  /** [min, max] area per range (inclusive). */
  areaRng: [number, number][];
  areaRngLbl: string[];
}

/** numpy.linspace(start, stop, num): i·step + start, with the last value exactly `stop`. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/** pycocotools' defaults for bbox and segm. */
export function detectionParams(): EvalParams {
  return {
    iouThrs: linspace(0.5, 0.95, 10),
    recThrs: linspace(0, 1, 101),
    maxDets: [1, 10, 100],
    areaRng: [[0, 1e10], [0, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e10]],
    areaRngLbl: ['all', 'small', 'medium', 'large'],
  };
}

/** detectron2 DensePoseCocoEval's defaults: 20 detections, areas all/medium/large. */
export function denseposeParams(): EvalParams {
  return {
    iouThrs: linspace(0.5, 0.95, 10),
    recThrs: linspace(0, 1, 101),
    maxDets: [20],
    areaRng: [[0, 1e10], [32 ** 2, 96 ** 2], [96 ** 2, 1e10]],
    areaRngLbl: ['all', 'medium', 'large'],
  };
}

/** A ground-truth object as matching sees it. */
export interface EvalGt {
  id: number;
  area: number;
  iscrowd: boolean;
  /** Excluded from scoring: a crowd (COCO), or a person without points (DensePose). */
  ignore: boolean;
}

/** A detection as matching sees it. */
export interface EvalDt {
  id: number;
  area: number;
  score: number;
}

/**
 * One (image, category) cell: its ground truths in dataset order, its detections sorted by
 * descending score (stable) and cut to maxDets[-1], and the similarity matrix `sim` row-major
 * `[dts.length, gts.length]` (IoU, GPS, GPSm…).
 */
export interface EvalCell {
  imageId: number;
  categoryId: number;
  gts: EvalGt[];
  dts: EvalDt[];
  sim: Float64Array;
  /** DensePose only: box IoU `[dts, gts]` with the crowd rule, for detectron2's second matching pass. */
  boxIou?: Float64Array;
}

/** Per-image matching outcome. */
export interface ImageEval {
  dtScores: Float64Array;
  /** `[T, D]` matched gt id or 0. */
  dtMatches: Float64Array;
  /** `[T, D]` 0/1. */
  dtIgnore: Uint8Array;
  /** `[G]` 0/1, gts ordered non-ignored first. */
  gtIgnore: Uint8Array;
  numDts: number;
}

/** Stable descending-score order (mergesort in the reference). */
export function sortByScore<T extends { score: number }>(items: readonly T[]): T[] {
  return items.map((d, i) => [d, i] as const).sort((a, b) => b[0].score - a[0].score || a[1] - b[1]).map((x) => x[0]);
}

/**
 * pycocotools' `evaluateImg` (greedy matching, at each threshold, of detections in score order to
 * the best still-free ground truth; crowds may be matched many times; a match to an ignored gt
 * ignores the detection). `densepose` adds detectron2's rules: a similarity of 0 never matches;
 * an image whose ground truths are all ignored ignores all its detections; detections unmatched
 * at the last threshold take the ignore flag of a gt whose box IoU ≥ 0.8.
 */
export function evaluateImage(cell: EvalCell, aRng: [number, number], maxDet: number, iouThrs: Float64Array, densepose: boolean): ImageEval | null {
  const G0 = cell.gts.length;
  if (G0 === 0 && cell.dts.length === 0) return null;
  const ignoreFlag = cell.gts.map((g) => (g.ignore || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0));
  const order = cell.gts.map((_, i) => i).sort((a, b) => ignoreFlag[a]! - ignoreFlag[b]! || a - b);
  const G = G0;
  const D = Math.min(cell.dts.length, maxDet);
  const T = iouThrs.length;
  const gtIg = Uint8Array.from(order, (i) => ignoreFlag[i]!);
  const gtId = order.map((i) => cell.gts[i]!.id);
  const crowd = order.map((i) => cell.gts[i]!.iscrowd);
  const gtm = new Float64Array(T * G);
  const dtm = new Float64Array(T * D);
  const dtIg = new Uint8Array(T * D);
  const Gs = cell.gts.length;
  if (densepose && gtIg.every((x) => x === 1)) dtIg.fill(1);
  if (G > 0 && cell.dts.length > 0) {
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        let iou = Math.min(iouThrs[t]!, 1 - 1e-10);
        let m = -1;
        for (let g = 0; g < G; g++) {
          if (gtm[t * G + g]! > 0 && !crowd[g]) continue;
          if (m > -1 && gtIg[m] === 0 && gtIg[g] === 1) break;
          const s = cell.sim[d * Gs + order[g]!]!;
          if (s < iou) continue;
          if (densepose && s === 0) continue;
          iou = s;
          m = g;
        }
        if (m === -1) continue;
        dtIg[t * D + d] = gtIg[m]!;
        dtm[t * D + d] = gtId[m]!;
        gtm[t * G + m] = cell.dts[d]!.id;
      }
    }
    if (densepose && cell.boxIou) {
      // detectron2 runs this pass with the loop variable left at the last threshold.
      const t = T - 1;
      for (let d = 0; d < D; d++) {
        if (dtm[t * D + d] !== 0) continue;
        let ioub = 0.8;
        let m = -1;
        for (let g = 0; g < G; g++) {
          if (gtm[t * G + g]! > 0 && !crowd[g]) continue;
          const b = cell.boxIou[d * Gs + order[g]!]!;
          if (b < ioub) continue;
          ioub = b;
          m = g;
        }
        if (m > -1) {
          for (let tt = 0; tt < T; tt++) dtIg[tt * D + d] = gtIg[m]!;
          if (gtIg[m]) {
            dtm[t * D + d] = gtId[m]!;
            gtm[t * G + m] = cell.dts[d]!.id;
          }
        }
      }
    }
  }
  for (let d = 0; d < D; d++) {
    const a = cell.dts[d]!.area;
    if (a < aRng[0] || a > aRng[1]) {
      for (let t = 0; t < T; t++) if (dtm[t * D + d] === 0) dtIg[t * D + d] = 1;
    }
  }
  const dtScores = Float64Array.from(cell.dts.slice(0, D), (d) => d.score);
  return { dtScores, dtMatches: dtm, dtIgnore: dtIg, gtIgnore: gtIg, numDts: D };
}

/** Accumulated curves. */
export interface Accumulated {
  params: EvalParams;
  /** `[T, R, K, A, M]` row-major; -1 where a setting has no ground truth. */
  precision: Float64Array;
  /** `[T, K, A, M]`. */
  recall: Float64Array;
  shape: { T: number; R: number; K: number; A: number; M: number };
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

/**
 * pycocotools' `accumulate`: `evalImgs[k][a][i]` are the per-image results for category k, area
 * range a, image i (null where the image has neither gt nor detections).
 */
export function accumulate(evalImgs: (ImageEval | null)[][][], params: EvalParams): Accumulated {
  const T = params.iouThrs.length, R = params.recThrs.length, K = evalImgs.length, A = params.areaRng.length, M = params.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const E = evalImgs[k]![a]!.filter((e): e is ImageEval => e !== null);
      if (E.length === 0) continue;
      for (let m = 0; m < M; m++) {
        const maxDet = params.maxDets[m]!;
        // Concatenate the first maxDet detections of every image, then stable-sort by score.
        const items: { score: number; e: ImageEval; d: number }[] = [];
        let npig = 0;
        for (const e of E) {
          const n = Math.min(maxDet, e.numDts);
          for (let d = 0; d < n; d++) items.push({ score: e.dtScores[d]!, e, d });
          for (const g of e.gtIgnore) if (g === 0) npig++;
        }
        if (npig === 0) continue;
        const sorted = sortByScore(items);
        const nd = sorted.length;
        for (let t = 0; t < T; t++) {
          let tp = 0, fp = 0;
          const rc = new Float64Array(nd), pr = new Float64Array(nd);
          for (let i = 0; i < nd; i++) {
            const { e, d } = sorted[i]!;
            const D = e.numDts;
            const matched = e.dtMatches[t * D + d] !== 0;
            const ignored = e.dtIgnore[t * D + d] !== 0;
            if (!ignored) {
              if (matched) tp++;
              else fp++;
            }
            rc[i] = tp / npig;
            pr[i] = tp / (fp + tp + EPS);
          }
          recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1]! : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
          let ri = 0;
          let idx = 0;
          const base = (t * R) * K * A * M;
          for (; ri < R; ri++) {
            const thr = params.recThrs[ri]!;
            while (idx < nd && rc[idx]! < thr) idx++; // searchsorted side='left'
            if (idx >= nd) break; // the reference stops at the first index past the end: the rest stay 0
            precision[base + ((ri * K + k) * A + a) * M + m] = pr[idx]!;
          }
          for (; ri < R; ri++) precision[base + ((ri * K + k) * A + a) * M + m] = 0;
        }
      }
    }
  }
  return { params, precision, recall, shape: { T, R, K, A, M } };
}

/**
 * Mean of the curve values above -1 for one setting (pycocotools' `_summarize`); -1 when none.
 * `iouThr` picks one threshold; otherwise all.
 */
export function summarizeOne(acc: Accumulated, ap: boolean, options: { iouThr?: number; areaRng?: string; maxDets?: number } = {}): number {
  const { params, shape } = acc;
  const { T, R, K, A, M } = shape;
  const a = params.areaRngLbl.indexOf(options.areaRng ?? 'all');
  const m = params.maxDets.indexOf(options.maxDets ?? params.maxDets[params.maxDets.length - 1]!);
  if (a < 0 || m < 0) throw new DensePoseError('BAD_OPTION', `no area range "${options.areaRng}" or maxDets ${options.maxDets} in these parameters`);
  const ts: number[] = [];
  for (let t = 0; t < T; t++) if (options.iouThr === undefined || Math.abs(options.iouThr - params.iouThrs[t]!) < 0.001) ts.push(t);
  let sum = 0, n = 0;
  for (const t of ts) {
    for (let k = 0; k < K; k++) {
      if (ap) {
        for (let r = 0; r < R; r++) {
          const v = acc.precision[(((t * R + r) * K + k) * A + a) * M + m]!;
          if (v > -1) { sum += v; n++; }
        }
      } else {
        const v = acc.recall[((t * K + k) * A + a) * M + m]!;
        if (v > -1) { sum += v; n++; }
      }
    }
  }
  return n === 0 ? -1 : sum / n;
}

/** The 12 COCOeval stats for bbox/segm: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl. */
export const DETECTION_STAT_NAMES = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;
/** DensePose's 10 stats (maxDets 20). */
export const DENSEPOSE_STAT_NAMES = ['AP', 'AP50', 'AP75', 'APm', 'APl', 'AR', 'AR50', 'AR75', 'ARm', 'ARl'] as const;

export function summarizeDetection(acc: Accumulated): number[] {
  const md = acc.params.maxDets;
  const last = md[2] ?? md[md.length - 1]!;
  return [
    summarizeOne(acc, true, { maxDets: last }),
    summarizeOne(acc, true, { iouThr: 0.5, maxDets: last }),
    summarizeOne(acc, true, { iouThr: 0.75, maxDets: last }),
    summarizeOne(acc, true, { areaRng: 'small', maxDets: last }),
    summarizeOne(acc, true, { areaRng: 'medium', maxDets: last }),
    summarizeOne(acc, true, { areaRng: 'large', maxDets: last }),
    summarizeOne(acc, false, { maxDets: md[0]! }),
    summarizeOne(acc, false, { maxDets: md[1] ?? last }),
    summarizeOne(acc, false, { maxDets: last }),
    summarizeOne(acc, false, { areaRng: 'small', maxDets: last }),
    summarizeOne(acc, false, { areaRng: 'medium', maxDets: last }),
    summarizeOne(acc, false, { areaRng: 'large', maxDets: last }),
  ];
}

export function summarizeDensePose(acc: Accumulated): number[] {
  const md = acc.params.maxDets[0]!;
  return [
    summarizeOne(acc, true, { maxDets: md }),
    summarizeOne(acc, true, { maxDets: md, iouThr: 0.5 }),
    summarizeOne(acc, true, { maxDets: md, iouThr: 0.75 }),
    summarizeOne(acc, true, { maxDets: md, areaRng: 'medium' }),
    summarizeOne(acc, true, { maxDets: md, areaRng: 'large' }),
    summarizeOne(acc, false, { maxDets: md }),
    summarizeOne(acc, false, { maxDets: md, iouThr: 0.5 }),
    summarizeOne(acc, false, { maxDets: md, iouThr: 0.75 }),
    summarizeOne(acc, false, { maxDets: md, areaRng: 'medium' }),
    summarizeOne(acc, false, { maxDets: md, areaRng: 'large' }),
  ];
}

/** Run matching for every (category, area, image) and accumulate. `cells` keyed by category then image (in ascending image id). */
export function evaluateCells(cells: Map<number, (EvalCell | null)[]>, params: EvalParams, densepose: boolean): Accumulated {
  const maxDet = params.maxDets[params.maxDets.length - 1]!;
  const evalImgs = [...cells.values()].map((perImage) =>
    params.areaRng.map((aRng) => perImage.map((cell) => (cell ? evaluateImage(cell, aRng, maxDet, params.iouThrs, densepose) : null))),
  );
  return accumulate(evalImgs, params);
}
