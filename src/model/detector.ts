import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../errors.ts';
import { Module } from '../runtime/module.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';
import { Fpn, FPN_LEVELS, type FpnFeatures } from './backbone/fpn.ts';
import type { ModelConfig } from './config.ts';
import { checkImageSize } from './image-size.ts';
import { boxInference, type Detections } from './roi-heads/box-head.ts';
import { RoiHeads } from './roi-heads/roi-heads.ts';
import { Rpn, type Proposals, type RpnHeadOutput } from './rpn/rpn.ts';

/**
 * Adds heads under `roi_heads` (the DensePose helper registers `decoder`, `densepose_head`,
 * `densepose_predictor` through `roiHeads.attach`).
 */
export type RoiHeadsExtension = (roiHeads: RoiHeads, config: ModelConfig) => void;

export interface GeneralizedRcnnOptions {
  /** Attach further RoI heads (DensePose). @default none */
  extendRoiHeads?: RoiHeadsExtension;
}

/** What `detect` returns for one image; the caller owns and disposes `features`. */
export interface DetectorOutput {
  /** FPN and stage maps NHWC (`p2`..`p6`, `res2`..`res5`). */
  features: FpnFeatures<tf.Tensor4D>;
  proposals: Proposals;
  detections: Detections;
}

/**
 * detectron2's `GeneralizedRCNN` as one `Module`: `backbone` (ResNet + FPN), `proposal_generator`
 * (RPN), `roi_heads` (box head + attached heads); parameter names equal detectron2's.
 */
export class GeneralizedRcnn extends Module {
  readonly backbone: Fpn;
  readonly proposal_generator: Rpn;
  readonly roi_heads: RoiHeads;
  constructor(readonly config: ModelConfig, options: GeneralizedRcnnOptions = {}) {
    super();
    this.backbone = this.addModule('backbone', new Fpn({ resnet: config.backbone, fpn: config.fpn }));
    const channels = this.backbone.outChannels;
    this.proposal_generator = this.addModule('proposal_generator', new Rpn(channels, config.rpn));
    this.roi_heads = this.addModule('roi_heads', new RoiHeads(channels, config.roiHeads));
    options.extendRoiHeads?.(this.roi_heads, config);
  }

  /**
   * Inference on tfjs: `image` `[1,Hp,Wp,3]` normalised and padded (see `preprocessImage`), `imageSize`
   * the unpadded `[h, w]`. Proposals and detections are typed arrays in input pixels.
   */
  detect(image: tf.Tensor4D, imageSize: readonly [number, number]): DetectorOutput {
    const [n, hp, wp, c] = image.shape;
    checkImageSize(imageSize[0], imageSize[1], 'detector input');
    if (n !== 1 || c !== 3 || hp % 32 !== 0 || wp % 32 !== 0 || imageSize[0] > hp || imageSize[1] > wp) {
      throw new DensePoseError('BAD_INPUT', `detector input must be [1,H,W,3] with H, W multiples of 32 covering imageSize [${imageSize.join(',')}], got [${image.shape.join(',')}]`);
    }
    const ex = new TfExecutor();
    const features = tf.tidy(() => this.backbone.forward<tf.Tensor>(ex, image) as unknown as tf.TensorContainer) as unknown as FpnFeatures<tf.Tensor4D>;
    const levels = FPN_LEVELS.map((l) => features[l]);
    const head = tf.tidy(() => this.proposal_generator.rpn_head.forward<tf.Tensor>(ex, levels) as unknown as tf.TensorContainer) as unknown as RpnHeadOutput<tf.Tensor>;
    const proposals = this.proposal_generator.propose(
      head.logits.map((t) => t.dataSync() as Float32Array),
      head.deltas.map((t) => t.dataSync() as Float32Array),
      levels.map((t) => [t.shape[1], t.shape[2]] as const),
      imageSize,
      'test',
    );
    tf.dispose([...head.logits, ...head.deltas]);
    const detections = this.detectBoxes(features, proposals.boxes, imageSize);
    return { features, proposals, detections };
  }

  /** Box head on given proposals `[R,4]`: pooled from p2..p5, scored, decoded, NMS. */
  detectBoxes(features: FpnFeatures<tf.Tensor4D>, proposals: Float32Array, imageSize: readonly [number, number]): Detections {
    const ex = new TfExecutor();
    const o = this.roi_heads.options;
    const [logits, deltas] = tf.tidy(() => {
      const pooled = this.roi_heads.poolBoxes([features.p2, features.p3, features.p4, features.p5], proposals);
      const pred = this.roi_heads.box_predictor.forward(ex, this.roi_heads.box_head.forward(ex, pooled));
      return [pred.scores, pred.deltas];
    });
    const out = boxInference(logits.dataSync() as Float32Array, deltas.dataSync() as Float32Array, proposals, imageSize, {
      numClasses: o.numClasses,
      bboxRegWeights: o.bboxRegWeights,
      scoreThresh: o.scoreThreshTest,
      nmsThresh: o.nmsThreshTest,
      topK: o.detectionsPerImage,
    });
    tf.dispose([logits, deltas]);
    return out;
  }
}

/** Build the detector of a config (what `densepose convert` and `infer` call). */
export function buildModel(config: ModelConfig, options: GeneralizedRcnnOptions = {}): GeneralizedRcnn {
  return new GeneralizedRcnn(config, options);
}
