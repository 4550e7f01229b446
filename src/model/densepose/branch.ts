import type * as tf from '@tensorflow/tfjs-core';
import { unknownValue } from '../../errors.ts';
import type { Executor } from '../../runtime/executor.ts';
import { Module } from '../../runtime/module.ts';
import { roiAlign, roiAlignMultiLevel } from '../roi-align.ts';
import { type DensePoseHeadConfig, type DensePoseHeadConfigInput, HEAD_KINDS, predictorOutputSize, resolveDensePoseConfig } from './config.ts';
import { Decoder } from './decoder.ts';
import { type DensePoseHeadBody, DensePoseAsppHead, DensePoseDeepLabHead, DensePoseV1ConvXHead } from './heads.ts';
import { type ChartOutputs, ChartPredictor } from './predictor.ts';

/** Head body for a config. */
export function buildHeadBody(c: DensePoseHeadConfig, inChannels: number): DensePoseHeadBody {
  const common = { inChannels, hiddenDim: c.convHeadDim, kernel: c.convHeadKernel, numConvs: c.numStackedConvs };
  switch (c.head) {
    case 'v1convx':
      return new DensePoseV1ConvXHead(common);
    case 'deeplab':
      return new DensePoseDeepLabHead({ ...common, norm: c.deeplabNorm });
    case 'aspp':
      return new DensePoseAsppHead({ ...common, aspp: c.aspp });
    default:
      throw unknownValue('densepose.head', String(c.head), HEAD_KINDS);
  }
}

/**
 * The DensePose branch of the ROI heads: optional decoder (`decoder`), RoI pooling (tfjs, between the
 * two exportable stages), head body (`densepose_head`) and chart predictor (`densepose_predictor`).
 * Mounted as `roi_heads`, parameter names are detectron2's (`roi_heads.densepose_head.body_conv_fcn1.weight`).
 */
export class DensePoseBranch extends Module {
  readonly config: DensePoseHeadConfig;
  readonly decoder: Decoder | null;
  readonly head: DensePoseHeadBody;
  readonly predictor: ChartPredictor;

  constructor(config: DensePoseHeadConfigInput | DensePoseHeadConfig = {}) {
    super();
    const c = resolveDensePoseConfig(config as DensePoseHeadConfigInput);
    this.config = c;
    this.decoder = c.decoder
      ? this.addModule('decoder', new Decoder({ inChannels: c.inChannels, convDims: c.decoderConvDims, numClasses: c.decoderNumClasses, norm: c.decoderNorm, featureStrides: c.featureStrides }))
      : null;
    const headIn = c.decoder ? c.decoderNumClasses : c.inChannels;
    this.head = this.addModule('densepose_head', buildHeadBody(c, headIn));
    this.predictor = this.addModule(
      'densepose_predictor',
      new ChartPredictor({
        inChannels: this.head.outChannels,
        numCoarseSegmChannels: c.numCoarseSegmChannels,
        numPatches: c.numPatches,
        upsample: c.upsample,
        deconvKernel: c.deconvKernel,
        stlFactor: c.stlFactor,
        stlKernel: c.stlKernel,
        upScale: c.upScale,
        uvConfidence: c.uvConfidence,
        segmConfidence: c.segmConfidence,
      }),
    );
  }

  /** Predictor output `[h, w]`. */
  get outputSize(): [number, number] {
    return predictorOutputSize(this.config);
  }

  /** Maps RoIs are pooled from: the decoder's stride-4 map `[1,H/4,W/4,C]`, or the FPN maps themselves. FPN maps NHWC, finest first. */
  poolingMaps<T>(ex: Executor<T>, fpn: readonly T[]): T[] {
    return this.decoder ? [this.decoder.forward(ex, fpn)] : [...fpn];
  }

  /**
   * RoIAlign of `boxes` (`[K,4]` xyxy, input pixels) from {@link poolingMaps}: one map → that map at
   * 1/featureStrides[0]; several → detectron2's level assignment. → `[K,h,w,C]` (differentiable).
   */
  pool(maps: readonly tf.Tensor4D[], boxes: Float32Array): tf.Tensor4D {
    const c = this.config;
    const common = { outputSize: c.poolerResolution, samplingRatio: c.poolerSamplingRatio, aligned: c.poolerAligned } as const;
    if (maps.length === 1) return roiAlign(maps[0]!, boxes, { ...common, spatialScale: 1 / c.featureStrides[0]! });
    return roiAlignMultiLevel(maps, boxes, { ...common, scales: c.featureStrides.map((s) => 1 / s) });
  }

  /** Head body + predictor: pooled `[K,h,w,C]` → chart outputs `[K,Hout,Wout,·]`. */
  forwardHead<T>(ex: Executor<T>, pooled: T): ChartOutputs<T> {
    return this.predictor.forward(ex, this.head.forward(ex, pooled));
  }

  /**
   * The whole branch on tfjs: FPN maps (finest first) and boxes → chart outputs. Intermediates stay
   * alive for gradients; run it inside `tf.tidy` / `tf.variableGrads`.
   */
  forward(ex: Executor<tf.Tensor>, fpn: readonly tf.Tensor4D[], boxes: Float32Array): ChartOutputs<tf.Tensor> {
    return this.forwardHead(ex, this.pool(this.poolingMaps(ex, fpn) as tf.Tensor4D[], boxes));
  }
}
