import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../runtime/module.ts';
import type { BoxHeadOptions } from '../config.ts';
import { roiAlignMultiLevel } from '../roi-align-tf.ts';
import { BOX_HEAD_DEFAULTS, FastRcnnFcHead, FastRcnnOutputLayers } from './box-head.ts';

/** Strides of the pooled FPN levels p2..p5. */
export const BOX_POOLER_SCALES = [1 / 4, 1 / 8, 1 / 16, 1 / 32] as const;

/**
 * detectron2 `StandardROIHeads` box branch (`roi_heads.box_head`, `roi_heads.box_predictor`). Other heads
 * (DensePose: `densepose_head`, `densepose_predictor`, `decoder`) attach as further children via {@link attach}.
 */
export class RoiHeads extends Module {
  readonly box_head: FastRcnnFcHead;
  readonly box_predictor: FastRcnnOutputLayers;
  readonly options: Required<BoxHeadOptions>;
  constructor(channels: number, options: BoxHeadOptions = {}) {
    super();
    this.options = { ...BOX_HEAD_DEFAULTS, ...options };
    const o = this.options;
    this.box_head = this.addModule('box_head', new FastRcnnFcHead(channels * o.poolerResolution * o.poolerResolution, o.numFc, o.fcDim));
    this.box_predictor = this.addModule('box_predictor', new FastRcnnOutputLayers(o.fcDim, o.numClasses, o.clsAgnosticBboxReg));
  }

  /** Register another head under `roi_heads.<name>` (detectron2 names: `densepose_head`, `densepose_predictor`, `decoder`). */
  attach<M extends Module>(name: string, module: M): M {
    return this.addModule(name, module);
  }

  /** Box RoIAlign over p2..p5 (`[1,H_l,W_l,C]` each): boxes `[R,4]` → `[R,r,r,C]` (differentiable w.r.t. features). */
  poolBoxes(features: readonly tf.Tensor4D[], boxes: Float32Array): tf.Tensor4D {
    const o = this.options;
    return roiAlignMultiLevel(features, boxes, {
      outputSize: [o.poolerResolution, o.poolerResolution],
      scales: BOX_POOLER_SCALES,
      samplingRatio: o.poolerSamplingRatio,
      aligned: o.poolerType === 'ROIAlignV2',
    });
  }
}
