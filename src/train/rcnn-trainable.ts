import * as tf from '@tensorflow/tfjs-core';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { FPN_LEVELS } from '../model/backbone/fpn.ts';
import { pairwiseIou } from '../model/boxes.ts';
import { boxHeadLosses, rpnLosses, rpnTargets, sampleRois, type RoiSamples } from '../model/losses.ts';
import { densePoseLosses, type DensePoseTarget } from '../model/densepose/losses.ts';
import { preprocessImage } from '../model/preprocess.ts';
import { concatArrays } from '../model/rpn/select-proposals.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';
import type { TrainableModel } from './loop.ts';
import { Rng } from './random.ts';
import type { PersonTarget, TrainSample } from './sample.ts';

export const TRAIN_MODES_RCNN = ['end2end', 'head'] as const;

export interface RcnnTrainOptions {
  /** `end2end`: RPN + box head + DensePose; `head`: DensePose head (and backbone) on ground-truth boxes. */
  mode: (typeof TRAIN_MODES_RCNN)[number];
  seed: number;
  /** Per data set multiplier of the DensePose losses (pseudo-labels get < 1). @default all 1 */
  datasetLossWeights?: readonly number[];
  /** Sampled anchors per image for the RPN. @default 256 */
  rpnBatchSize?: number;
  /** Sampled RoIs per image for the box head. @default 128 */
  roiBatchSize?: number;
  /** IoU a proposal needs with a person to train the DensePose head on it (detectron2 FG_IOU_THRESHOLD). @default 0.7 */
  densePoseIou?: number;
  /** At most this many DensePose RoIs per image (the head is the costly part). @default 16 */
  maxDensePoseRois?: number;
}

/** People's boxes `[G,4]` xyxy. */
export function xyxy(people: readonly PersonTarget[]): Float32Array {
  return Float32Array.from(people.flatMap((p) => p.box));
}

function toTarget(p: PersonTarget): DensePoseTarget | null {
  const d = p.densepose;
  if (!d) return null;
  return { box: p.box, points: { x: d.x, y: d.y, i: d.i, u: d.u, v: d.v, weight: d.weight }, masks: d.masks ?? null, dense: d.dense ?? null };
}

/** DensePose RoIs of one image and the target of each. */
export interface DensePoseRois {
  boxes: Float32Array;
  targets: (DensePoseTarget | null)[];
}

/** End to end: foreground samples overlapping an annotated person by ≥ `densePoseIou` (at most `maxDensePoseRois`). */
export function selectDensePoseRois(samples: RoiSamples, people: readonly PersonTarget[], gt: Float32Array, options: RcnnTrainOptions): DensePoseRois {
  const fg = samples.boxes.subarray(0, 4 * samples.numForeground);
  const iou = pairwiseIou(fg, gt);
  const g = people.length;
  const boxes: number[] = [];
  const targets: (DensePoseTarget | null)[] = [];
  for (let r = 0; r < samples.numForeground && targets.length < (options.maxDensePoseRois ?? 16); r++) {
    let best = -1;
    let bestIou = options.densePoseIou ?? 0.7;
    for (let j = 0; j < g; j++) if (iou[r * g + j]! >= bestIou && people[j]!.densepose) [best, bestIou] = [j, iou[r * g + j]!];
    if (best < 0) continue;
    boxes.push(...fg.subarray(4 * r, 4 * r + 4));
    targets.push(toTarget(people[best]!));
  }
  return { boxes: Float32Array.from(boxes), targets };
}

/** Head mode: the annotated people's own boxes. */
export function groundTruthDensePoseRois(people: readonly PersonTarget[], options: RcnnTrainOptions): DensePoseRois {
  const annotated = people.filter((p) => p.densepose).slice(0, options.maxDensePoseRois ?? 16);
  return { boxes: xyxy(annotated), targets: annotated.map(toTarget) };
}

/**
 * The training forward of a DensePose R-CNN: per image, backbone + FPN, RPN losses against sampled
 * anchors, box-head losses on sampled proposals, DensePose losses on proposals that overlap an
 * annotated person by ≥ `densePoseIou` (or on the ground-truth boxes in `head` mode). Losses are
 * averaged over the batch and named like detectron2's (`loss_rpn_cls`, `loss_densepose_I`, …).
 */
export function rcnnTrainable(rcnn: DensePoseRcnn, options: RcnnTrainOptions): TrainableModel {
  const ex = new TfExecutor();
  const { model, densepose } = rcnn;
  const dp = densepose.config;
  const input = rcnn.config.input ?? {};

  const imageLosses = (s: TrainSample, iteration: number, slot: number): Record<string, tf.Scalar> => {
    const rng = Rng.forKeys(options.seed, iteration, slot, 0x5a3);
    const rand = () => rng.next();
    const prepared = preprocessImage(s.image, s.height, s.width, { ...input, resize: false });
    const feats = model.backbone.forward<tf.Tensor>(ex, prepared.tensor);
    const levels = FPN_LEVELS.map((l) => feats[l] as tf.Tensor4D);
    const people = s.people.filter((p) => !p.iscrowd);
    const gt = xyxy(people);
    const out: Record<string, tf.Scalar> = {};
    let dpBoxes: Float32Array;
    let dpTargets: (DensePoseTarget | null)[];

    if (options.mode === 'end2end') {
      const rpn = model.proposal_generator;
      const head = rpn.rpn_head.forward<tf.Tensor>(ex, levels);
      const sizes = levels.map((t) => [t.shape[1], t.shape[2]] as const);
      const anchors = concatArrays(sizes.map(([h, w], l) => rpn.anchors(l, h, w)));
      const logits = tf.concat(head.logits.map((t) => tf.reshape(t, [-1]))) as tf.Tensor1D;
      const deltas = tf.concat(head.deltas.map((t) => tf.reshape(t, [-1, 4]))) as tf.Tensor2D;
      const rpnT = rpnTargets(anchors, gt, rand, { batchSizePerImage: options.rpnBatchSize ?? 256 });
      Object.assign(out, rpnLosses(logits, deltas, rpnT, { normalizer: options.rpnBatchSize ?? 256 }));
      const proposals = rpn.propose(
        head.logits.map((t) => t.dataSync() as Float32Array),
        head.deltas.map((t) => t.dataSync() as Float32Array),
        sizes,
        prepared.imageSize,
        'train',
      );
      const rh = model.roi_heads;
      const samples = sampleRois(proposals.boxes, gt, new Int32Array(people.length), rand, {
        numClasses: rh.options.numClasses,
        batchSizePerImage: options.roiBatchSize ?? 128,
        positiveFraction: rh.options.positiveFraction,
        bboxRegWeights: rh.options.bboxRegWeights,
      });
      const pred = rh.box_predictor.forward(ex, rh.box_head.forward(ex, rh.poolBoxes(levels.slice(0, 4), samples.boxes)));
      Object.assign(out, boxHeadLosses(pred.scores as tf.Tensor2D, pred.deltas as tf.Tensor2D, samples));
      ({ boxes: dpBoxes, targets: dpTargets } = selectDensePoseRois(samples, people, gt, options));
    } else {
      ({ boxes: dpBoxes, targets: dpTargets } = groundTruthDensePoseRois(people, options));
    }

    const weight = options.datasetLossWeights?.[s.datasetIndex] ?? 1;
    if (dpBoxes.length > 0) {
      const charts = densepose.forward(ex, levels.slice(0, 4), dpBoxes);
      const l = densePoseLosses(charts, dpBoxes, dpTargets, { numCoarseSegmChannels: dp.numCoarseSegmChannels, weights: dp.lossWeights });
      out.loss_densepose_S = tf.mul(l.S, weight) as tf.Scalar;
      out.loss_densepose_I = tf.mul(l.I, weight) as tf.Scalar;
      out.loss_densepose_U = tf.mul(l.U, weight) as tf.Scalar;
      out.loss_densepose_V = tf.mul(l.V, weight) as tf.Scalar;
    }
    return out;
  };

  return {
    module: model,
    lossTerms(batch: TrainSample[], iteration: number) {
      const sums: Record<string, tf.Scalar[]> = {};
      batch.forEach((s, slot) => {
        for (const [k, v] of Object.entries(imageLosses(s, iteration, slot))) (sums[k] ??= []).push(v);
      });
      const n = Math.max(batch.length, 1);
      const out: Record<string, tf.Scalar> = {};
      for (const [k, vs] of Object.entries(sums)) out[k] = tf.div(tf.addN(vs), n) as tf.Scalar;
      return out;
    },
  };
}

