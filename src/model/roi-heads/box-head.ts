import type { Executor } from '../../runtime/executor.ts';
import { Linear } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
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

export { boxInference, type BoxInferenceOptions, type Detections } from './box-inference.ts';
