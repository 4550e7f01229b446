// `densepose eval --report points`: how the predictions read at the ground-truth points, the view a
// researcher needs to see why GPS is low: part accuracy, coarse-part accuracy, background rate,
// |ΔU| and |ΔV| where the part is right, and the 24×24 part confusion matrix.
import type { CocoDataset } from '../data/coco.ts';
import { bboxIou } from '../data/mask.ts';
import { FINE_TO_COARSE } from '../synth/charts.ts';
import type { DensePoseDetection } from './densepose-results.ts';
import { sortByScore } from './coco-eval.ts';
import { groupBy } from './detection-eval.ts';

/** Options of {@link pointReport}. */
export interface PointReportOptions {
  /** Box IoU a detection needs with a GT person to be read at its points. @default 0.5 */
  iouThreshold?: number;
}

export interface PointReport {
  /** GT points scored (non-crowd people with `dp_I`). */
  points: number;
  /** GT people with points, and those a detection was matched to. */
  people: number;
  matchedPeople: number;
  /** Fraction of points whose predicted part equals the GT part (unmatched people's points count as background). */
  partAccuracy: number;
  /** Same on the 14 coarse parts of `dp_masks` (front/back and inside/outside merged; left/right kept). */
  coarsePartAccuracy: number;
  /** Fraction of points predicted background (outside the matched box, or no match). */
  backgroundRate: number;
  /** Mean |U_pred − U_gt| and |V_pred − V_gt| over the points whose part is right (U, V as the results' 8 bits /255). */
  meanAbsDU: number;
  meanAbsDV: number;
  /** `[25·25]` counts, row = GT part 0..24 (row 0 unused), column = predicted part 0..24 (0 = background). */
  confusion: Uint32Array;
}

/**
 * Read each GT person's points in the best detection matched to it (greedy by score, box IoU ≥ the
 * threshold, each detection and person used once; crowds ignored), at the same pixels the GPS
 * evaluator reads them (`x = dp_x·w/255` from the GT box, truncated relative to the detection's box).
 */
export function pointReport(gt: CocoDataset, dets: readonly DensePoseDetection[], options: PointReportOptions = {}): PointReport {
  const thr = options.iouThreshold ?? 0.5;
  const confusion = new Uint32Array(25 * 25);
  let points = 0, people = 0, matchedPeople = 0, right = 0, coarseRight = 0, background = 0, du = 0, dv = 0;
  const gts = groupBy(gt.annotations.filter((a) => a.dp_I && !a.iscrowd), (a) => `${a.image_id}/${a.category_id}`);
  const dtsBy = groupBy(dets, (r) => `${r.image_id}/${r.category_id}`);
  for (const [key, g] of gts) {
    const d = sortByScore(dtsBy.get(key) ?? []);
    const iou = d.length ? bboxIou(d.map((r) => r.bbox), g.map((a) => a.bbox), g.map(() => false)) : new Float64Array(0);
    const matchOf = new Int32Array(g.length).fill(-1);
    const usedGt = new Uint8Array(g.length);
    d.forEach((_, i) => {
      let best = -1, bestIou = thr;
      for (let j = 0; j < g.length; j++) if (!usedGt[j] && iou[i * g.length + j]! >= bestIou) [best, bestIou] = [j, iou[i * g.length + j]!];
      if (best >= 0) {
        usedGt[best] = 1;
        matchOf[best] = i;
      }
    });
    g.forEach((a, j) => {
      people++;
      const det = matchOf[j]! >= 0 ? d[matchOf[j]!]! : null;
      if (det) matchedPeople++;
      const [gx, gy, gw, gh] = a.bbox;
      for (let k = 0; k < a.dp_I!.length; k++) {
        const gi = a.dp_I![k]!;
        let pi = 0, pu = 0, pv = 0;
        if (det) {
          const { width: W, height: H, data } = det.iuv;
          const [dx0, dy0, dw, dh] = det.bbox;
          const px = Math.trunc((a.dp_x![k]! * gw) / 255 + gx - dx0), py = Math.trunc((a.dp_y![k]! * gh) / 255 + gy - dy0);
          if (px >= 0 && py >= 0 && px < Math.trunc(dw) && py < Math.trunc(dh) && px < W && py < H) {
            const o = py * W + px;
            pi = data[o]!;
            pu = data[W * H + o]! / 255;
            pv = data[2 * W * H + o]! / 255;
          }
        }
        points++;
        confusion[gi * 25 + pi]!++;
        if (pi === 0) background++;
        if (pi !== 0 && FINE_TO_COARSE[pi] === FINE_TO_COARSE[gi]) coarseRight++;
        if (pi === gi) {
          right++;
          du += Math.abs(pu - a.dp_U![k]!);
          dv += Math.abs(pv - a.dp_V![k]!);
        }
      }
    });
  }
  const frac = (x: number, n: number) => (n > 0 ? x / n : 0);
  return {
    points, people, matchedPeople,
    partAccuracy: frac(right, points),
    coarsePartAccuracy: frac(coarseRight, points),
    backgroundRate: frac(background, points),
    meanAbsDU: frac(du, right),
    meanAbsDV: frac(dv, right),
    confusion,
  };
}

/** The report as text: the figures, then the most frequent confusions. */
export function formatPointReport(r: PointReport, partNames: readonly string[], top = 8): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = [
    `points: ${r.points} GT points of ${r.people} people (${r.matchedPeople} matched to a detection at box IoU ≥ 0.5)`,
    ` part accuracy        = ${pct(r.partAccuracy)}`,
    ` coarse-part accuracy = ${pct(r.coarsePartAccuracy)}`,
    ` predicted background = ${pct(r.backgroundRate)}`,
    ` mean |ΔU| (part right) = ${r.meanAbsDU.toFixed(3)}`,
    ` mean |ΔV| (part right) = ${r.meanAbsDV.toFixed(3)}`,
  ];
  const off: { g: number; p: number; n: number; rate: number }[] = [];
  for (let g = 1; g <= 24; g++) {
    let row = 0;
    for (let p = 0; p <= 24; p++) row += r.confusion[g * 25 + p]!;
    for (let p = 0; p <= 24; p++) if (p !== g && r.confusion[g * 25 + p]! > 0) off.push({ g, p, n: r.confusion[g * 25 + p]!, rate: r.confusion[g * 25 + p]! / row });
  }
  off.sort((a, b) => b.n - a.n);
  if (off.length) lines.push(' most frequent confusions (GT → predicted, share of the GT part\'s points):');
  for (const o of off.slice(0, top)) lines.push(`   ${partNames[o.g]} → ${partNames[o.p]}: ${o.n} (${pct(o.rate)})`);
  return lines.join('\n');
}
