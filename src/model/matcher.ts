/**
 * detectron2 `Matcher` and `subsample_labels` on typed arrays: assign each prediction (anchor or proposal)
 * to its best ground-truth box and label it by IoU bands; then sample a fixed-size, fixed-fraction minibatch.
 */

export interface MatcherOptions {
  /** Band edges, ascending: RPN [0.3, 0.7], RoI heads [0.5]. */
  thresholds: readonly number[];
  /** One label per band (thresholds + 1): RPN [0, −1, 1], RoI heads [0, 1]. */
  labels: readonly number[];
  /** Also make positive every prediction that is some GT's best match (RPN: true). @default false */
  allowLowQualityMatches?: boolean;
}

export interface MatchResult {
  /** Best GT index per prediction `[P]` (0 when there is no GT). */
  matches: Int32Array;
  /** Band label per prediction `[P]` (−1 = ignore). */
  labels: Int8Array;
}

/** `iou` is `[G,P]` (GT rows). With no GT every prediction gets the lowest band's label. */
export function matchPredictions(iou: Float32Array, numGt: number, numPred: number, options: MatcherOptions): MatchResult {
  const matches = new Int32Array(numPred);
  const labels = new Int8Array(numPred);
  if (numGt === 0) {
    labels.fill(options.labels[0]!);
    return { matches, labels };
  }
  const best = new Float32Array(numPred).fill(-Infinity);
  for (let g = 0; g < numGt; g++) {
    for (let p = 0; p < numPred; p++) {
      const v = iou[g * numPred + p]!;
      if (v > best[p]!) {
        best[p] = v;
        matches[p] = g;
      }
    }
  }
  for (let p = 0; p < numPred; p++) {
    let band = 0;
    while (band < options.thresholds.length && best[p]! >= options.thresholds[band]!) band++;
    labels[p] = options.labels[band]!;
  }
  if (options.allowLowQualityMatches) {
    for (let g = 0; g < numGt; g++) {
      let m = -Infinity;
      for (let p = 0; p < numPred; p++) m = Math.max(m, iou[g * numPred + p]!);
      for (let p = 0; p < numPred; p++) if (iou[g * numPred + p] === m) labels[p] = 1;
    }
  }
  return { matches, labels };
}

/** Uniform random numbers in [0, 1): the training loop's seeded generator. */
export type Random = () => number;

function sampleIndices(candidates: number[], k: number, rand: Random): number[] {
  // Partial Fisher–Yates: a uniformly random k-subset (detectron2 uses randperm(n)[:k]).
  const a = candidates.slice();
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

export interface SampleResult {
  positive: Int32Array;
  negative: Int32Array;
}

/**
 * `subsample_labels`: up to `numSamples · positiveFraction` positives (label ∉ {−1, bgLabel}), the rest
 * negatives (label = bgLabel), both drawn uniformly at random.
 */
export function subsampleLabels(labels: ArrayLike<number>, numSamples: number, positiveFraction: number, bgLabel: number, rand: Random): SampleResult {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l === bgLabel) neg.push(i);
    else if (l !== -1) pos.push(i);
  }
  const numPos = Math.min(Math.floor(numSamples * positiveFraction), pos.length);
  const numNeg = Math.min(numSamples - numPos, neg.length);
  return { positive: Int32Array.from(sampleIndices(pos, numPos, rand)), negative: Int32Array.from(sampleIndices(neg, numNeg, rand)) };
}
