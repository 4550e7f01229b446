import type { Executor } from '../../runtime/executor.ts';
import { Linear } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
import { applyDeltas, batchedNms, clipBoxes, gather, gatherBoxes } from '../boxes.ts';
import type { BoxHeadOptions } from '../config.ts';

export const BOX_HEAD_DEFAULTS = {
  numClasses: 1,
  numFc: 2,
  fcDim: 1024,
  poolerResolution: 7,
  poolerSamplingRatio: 2,
  poolerType: 'ROIAlign',
  bboxRegWeights: [10, 10, 5, 5],
  clsAgnosticBboxReg: false,
  scoreThreshTest: 0.05,
  nmsThreshTest: 0.5,
  detectionsPerImage: 100,
  iouThreshold: 0.5,
  batchSizePerImage: 512,
  positiveFraction: 0.25,
  smoothL1Beta: 0,
  proposalAppendGt: true,
} as const satisfies Required<BoxHeadOptions>;

/**
 * detectron2 `FastRCNNConvFCHead` with no convs (`box_head.fc1`, `fc2`, …): pooled RoIs `[R,h,w,C]`
 * flattened in NHWC order (the importer permutes fc1's input from detectron2's NCHW flatten) → `[R,fcDim]`.
 */
export class FastRcnnFcHead extends Module {
  private readonly fcs: Linear[] = [];
  constructor(inFeatures: number, numFc: number, fcDim: number) {
    super();
    for (let i = 0; i < numFc; i++) this.fcs.push(this.addModule(`fc${i + 1}`, new Linear(i === 0 ? inFeatures : fcDim, fcDim, 'xavier')));
  }
  forward<T>(ex: Executor<T>, pooled: T): T {
    let y = ex.flatten(pooled);
    for (const fc of this.fcs) y = ex.relu(fc.forward(ex, y));
    return y;
  }
}

/** Class logits `[R,K+1]` (background last, as detectron2) and deltas `[R,4·M]`. */
export interface BoxPredictions<T> {
  scores: T;
  deltas: T;
}

/** detectron2 `FastRCNNOutputLayers` (`box_predictor.cls_score`, `bbox_pred`). */
export class FastRcnnOutputLayers extends Module {
  readonly cls_score: Linear;
  readonly bbox_pred: Linear;
  constructor(inFeatures: number, numClasses: number, clsAgnostic: boolean) {
    super();
    this.cls_score = this.addModule('cls_score', new Linear(inFeatures, numClasses + 1, 'normal001'));
    this.bbox_pred = this.addModule('bbox_pred', new Linear(inFeatures, (clsAgnostic ? 1 : numClasses) * 4, 'normal0001'));
  }
  forward<T>(ex: Executor<T>, x: T): BoxPredictions<T> {
    return { scores: this.cls_score.forward(ex, x), deltas: this.bbox_pred.forward(ex, x) };
  }
}

/** Final detections of one image, by descending score. */
export interface Detections {
  /** `[D,4]` x1,y1,x2,y2 input pixels, clipped to the image. */
  boxes: Float32Array;
  /** `[D]` softmax class probability. */
  scores: Float32Array;
  /** `[D]` class index 0..K-1 (0 = person). */
  classes: Int32Array;
}

export interface BoxInferenceOptions {
  numClasses: number;
  bboxRegWeights: readonly [number, number, number, number];
  scoreThresh: number;
  nmsThresh: number;
  topK: number;
}

/**
 * `fast_rcnn_inference_single_image`: softmax, decode per class, clip, score threshold, per-class NMS, top-k.
 * logits `[R,K+1]`, deltas `[R,4·M]` (M = K or 1), proposals `[R,4]`, imageSize unpadded `[h,w]`.
 */
export function boxInference(logits: Float32Array, deltas: Float32Array, proposals: Float32Array, imageSize: readonly [number, number], o: BoxInferenceOptions): Detections {
  const r = proposals.length / 4;
  const k = o.numClasses;
  const m = r === 0 ? 1 : deltas.length / (4 * r);
  const boxes = clipBoxes(applyDeltas(deltas, proposals, o.bboxRegWeights), imageSize[0], imageSize[1]);
  const probs = new Float32Array(r * (k + 1));
  for (let i = 0; i < r; i++) {
    let max = -Infinity;
    for (let c = 0; c <= k; c++) max = Math.max(max, logits[i * (k + 1) + c]!);
    let sum = 0;
    for (let c = 0; c <= k; c++) sum += Math.exp(logits[i * (k + 1) + c]! - max);
    for (let c = 0; c <= k; c++) probs[i * (k + 1) + c] = Math.exp(logits[i * (k + 1) + c]! - max) / sum;
  }
  // nonzero() of the [R,K] mask: row-major (proposal, then class).
  const candBoxes: number[] = [];
  const candScores: number[] = [];
  const candClasses: number[] = [];
  for (let i = 0; i < r; i++) {
    for (let c = 0; c < k; c++) {
      const s = probs[i * (k + 1) + c]!;
      if (!(s > o.scoreThresh)) continue;
      const b = (i * m + (m === 1 ? 0 : c)) * 4;
      candBoxes.push(boxes[b]!, boxes[b + 1]!, boxes[b + 2]!, boxes[b + 3]!);
      candScores.push(s);
      candClasses.push(c);
    }
  }
  const cb = Float32Array.from(candBoxes);
  const cs = Float32Array.from(candScores);
  const cc = Int32Array.from(candClasses);
  const keep = batchedNms(cb, cs, cc, o.nmsThresh, o.topK);
  return { boxes: gatherBoxes(cb, keep), scores: gather(cs, keep), classes: Int32Array.from(keep, (i) => cc[i]!) };
}
