import * as tf from '@tensorflow/tfjs-core';
import { gatherBoxes, getDeltas, pairwiseIou, type BoxWeights } from './boxes.ts';
import { matchPredictions, subsampleLabels, type Random } from './matcher.ts';

/**
 * Faster R-CNN training targets and losses as detectron2 computes them (RPN and the box head). Targets are
 * built on typed arrays; losses are tfjs ops on the predictions, so `tf.grads` reaches the model.
 */

/** Smooth-L1 summed over elements; beta < 1e-5 is plain L1 (detectron2's `smooth_l1_loss`). */
export function smoothL1Sum(pred: tf.Tensor, target: tf.Tensor, beta: number): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.abs(tf.sub(pred, target));
    if (beta < 1e-5) return tf.sum(d);
    return tf.sum(tf.where(tf.less(d, beta), tf.div(tf.mul(0.5, tf.square(d)), beta), tf.sub(d, 0.5 * beta)));
  });
}

/** Binary cross-entropy with logits, summed: max(x,0) − x·y + log(1 + e^(−|x|)). */
export function bceWithLogitsSum(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))));
}

/** Softmax cross-entropy `[R,K]` logits vs integer labels `[R]`, mean over rows (0 for no rows). */
export function crossEntropyMean(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    if (labels.length === 0) return tf.scalar(0);
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
    return tf.div(tf.neg(tf.sum(tf.mul(logp, onehot))), labels.length) as tf.Scalar;
  });
}

export interface RpnTargetOptions {
  /** @default [0.3, 0.7] */
  iouThresholds?: readonly [number, number];
  /** @default 256 */
  batchSizePerImage?: number;
  /** @default 0.5 */
  positiveFraction?: number;
}

/** Per anchor: 1 positive, 0 negative, −1 not sampled; and the regression target of positives. */
export interface RpnTargets {
  labels: Int8Array;
  /** `[A,4]` deltas (weights 1,1,1,1) of each anchor's matched GT box; zeros without GT. */
  deltas: Float32Array;
}

/** `RPN.label_and_sample_anchors` for one image: anchors `[A,4]`, gtBoxes `[G,4]`. */
export function rpnTargets(anchors: Float32Array, gtBoxes: Float32Array, rand: Random, options: RpnTargetOptions = {}): RpnTargets {
  const a = anchors.length / 4;
  const g = gtBoxes.length / 4;
  const [lo, hi] = options.iouThresholds ?? [0.3, 0.7];
  const { matches, labels } = matchPredictions(pairwiseIou(gtBoxes, anchors), g, a, { thresholds: [lo, hi], labels: [0, -1, 1], allowLowQualityMatches: true });
  const { positive, negative } = subsampleLabels(labels, options.batchSizePerImage ?? 256, options.positiveFraction ?? 0.5, 0, rand);
  const sampled = new Int8Array(a).fill(-1);
  for (const i of positive) sampled[i] = 1;
  for (const i of negative) sampled[i] = 0;
  const deltas = g === 0 ? new Float32Array(a * 4) : getDeltas(anchors, gatherBoxes(gtBoxes, matches), [1, 1, 1, 1]);
  return { labels: sampled, deltas };
}

export interface RpnLossOptions {
  /** @default 0 (L1) */
  smoothL1Beta?: number;
  /** Normaliser: sampled anchors per image × images. @default 256 */
  normalizer?: number;
}

/**
 * RPN losses of one image: `logits` `[A]` and `deltas` `[A,4]` (all levels concatenated in anchor order).
 * `loss_rpn_cls` = BCE over sampled anchors / normalizer, `loss_rpn_loc` = smooth-L1 over positives / normalizer.
 */
export function rpnLosses(logits: tf.Tensor1D, deltas: tf.Tensor2D, targets: RpnTargets, options: RpnLossOptions = {}): { loss_rpn_cls: tf.Scalar; loss_rpn_loc: tf.Scalar } {
  const norm = options.normalizer ?? 256;
  const valid: number[] = [];
  const pos: number[] = [];
  targets.labels.forEach((l, i) => {
    if (l >= 0) valid.push(i);
    if (l === 1) pos.push(i);
  });
  return tf.tidy(() => {
    const cls = valid.length
      ? bceWithLogitsSum(tf.gather(logits, tf.tensor1d(valid, 'int32')), tf.tensor1d(valid.map((i) => targets.labels[i]!)))
      : tf.scalar(0);
    const loc = pos.length
      ? smoothL1Sum(tf.gather(deltas, tf.tensor1d(pos, 'int32')), tf.tensor2d(gatherBoxes(targets.deltas, pos), [pos.length, 4]), options.smoothL1Beta ?? 0)
      : tf.scalar(0);
    return { loss_rpn_cls: tf.div(cls, norm) as tf.Scalar, loss_rpn_loc: tf.div(loc, norm) as tf.Scalar };
  });
}

export interface RoiSampleOptions {
  numClasses: number;
  /** @default 0.5 */
  iouThreshold?: number;
  /** @default 512 */
  batchSizePerImage?: number;
  /** @default 0.25 */
  positiveFraction?: number;
  /** Append the GT boxes to the proposals first. @default true */
  appendGt?: boolean;
  /** Box delta weights. @default [10, 10, 5, 5] */
  bboxRegWeights?: BoxWeights;
}

/** The sampled RoIs of one image and their targets. */
export interface RoiSamples {
  /** `[S,4]` sampled proposal boxes (foreground first). */
  boxes: Float32Array;
  /** `[S]` class per RoI; `numClasses` = background. */
  classes: Int32Array;
  /** `[S,4]` regression targets (meaningful for foreground rows). */
  deltas: Float32Array;
  numForeground: number;
}

/** `ROIHeads.label_and_sample_proposals` for one image: proposals `[P,4]`, GT `[G,4]` with classes `[G]`. */
export function sampleRois(proposals: Float32Array, gtBoxes: Float32Array, gtClasses: Int32Array, rand: Random, options: RoiSampleOptions): RoiSamples {
  const boxes = options.appendGt ?? true ? Float32Array.from([...proposals, ...gtBoxes]) : proposals;
  const p = boxes.length / 4;
  const g = gtBoxes.length / 4;
  const k = options.numClasses;
  const { matches, labels } = matchPredictions(pairwiseIou(gtBoxes, boxes), g, p, { thresholds: [options.iouThreshold ?? 0.5], labels: [0, 1] });
  const classes = new Int32Array(p);
  for (let i = 0; i < p; i++) classes[i] = g === 0 || labels[i] === 0 ? k : labels[i] === -1 ? -1 : gtClasses[matches[i]!]!;
  const { positive, negative } = subsampleLabels(classes, options.batchSizePerImage ?? 512, options.positiveFraction ?? 0.25, k, rand);
  const idx = [...positive, ...negative];
  const sampled = gatherBoxes(boxes, idx);
  const matchedGt = g === 0 ? new Float32Array(idx.length * 4) : gatherBoxes(gtBoxes, idx.map((i) => matches[i]!));
  const deltas = g === 0 ? new Float32Array(idx.length * 4) : getDeltas(sampled, matchedGt, options.bboxRegWeights ?? [10, 10, 5, 5]);
  for (let j = positive.length; j < idx.length; j++) deltas.fill(0, 4 * j, 4 * j + 4);
  return { boxes: sampled, classes: Int32Array.from(idx, (i) => classes[i]!), deltas, numForeground: positive.length };
}

/**
 * `FastRCNNOutputLayers.losses`: `loss_cls` = mean CE over sampled RoIs; `loss_box_reg` = smooth-L1 of the
 * foreground RoIs' deltas of their GT class, summed and divided by the number of RoIs.
 * logits `[S,K+1]`, deltas `[S,4M]` (M = K, or 1 when class-agnostic).
 */
export function boxHeadLosses(logits: tf.Tensor2D, deltas: tf.Tensor2D, samples: RoiSamples, options: { smoothL1Beta?: number } = {}): { loss_cls: tf.Scalar; loss_box_reg: tf.Scalar } {
  const s = samples.classes.length;
  return tf.tidy(() => {
    const lossCls = crossEntropyMean(logits, samples.classes);
    if (samples.numForeground === 0 || s === 0) return { loss_cls: lossCls, loss_box_reg: tf.mul(tf.sum(deltas), 0) as tf.Scalar };
    const m = deltas.shape[1] / 4;
    const cols: number[] = [];
    for (let j = 0; j < samples.numForeground; j++) {
      const c = m === 1 ? 0 : samples.classes[j]!;
      for (let q = 0; q < 4; q++) cols.push(j * deltas.shape[1] + 4 * c + q);
    }
    const picked = tf.gather(tf.reshape(deltas, [-1]), tf.tensor1d(cols, 'int32'));
    const target = tf.tensor1d(samples.deltas.subarray(0, 4 * samples.numForeground));
    return { loss_cls: lossCls, loss_box_reg: tf.div(smoothL1Sum(picked, target, options.smoothL1Beta ?? 0), s) as tf.Scalar };
  });
}
