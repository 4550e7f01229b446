import type { Executor } from '../../runtime/executor.ts';
import { Conv2d, ConvTranspose2d } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
import type { UpsampleKind, UvConfidenceKind } from './config.ts';
import { CONFIDENCE_HEADS, type ConfidenceHeadName, confidenceHeadNames } from './confidence.ts';

/**
 * The predictor's four maps, NHWC (detectron2's `DensePoseChartPredictorOutput` is NCHW):
 * - `coarseSegm` `[K,Hout,Wout,S]`, S = 2 (bg/fg) or 15 (bg + 14 coarse parts), raw scores;
 * - `fineSegm` `[K,Hout,Wout,P+1]` raw scores of background + P = 24 charts;
 * - `u`, `v` `[K,Hout,Wout,P+1]` chart coordinates per chart channel (not squashed).
 */
export interface ChartOutputs<T> {
  coarseSegm: T;
  fineSegm: T;
  u: T;
  v: T;
  /**
   * Confidence maps of the zoo's WC/WCM models, raw (upsampled like the others, no activation), NHWC:
   * `sigma2`, `kappaU`, `kappaV` `[K,Hout,Wout,P+1]` per chart; `fineSegm`, `coarseSegm` `[K,Hout,Wout,1]`.
   * Only those the model has. {@link applyConfidences} (./confidence.ts) turns them into detectron2's outputs.
   */
  confidences?: Partial<Record<ConfidenceHeadName, T>>;
}

export const CHART_OUTPUT_NAMES = ['coarseSegm', 'fineSegm', 'u', 'v'] as const;


export interface ChartPredictorOptions {
  inChannels: number;
  /** @default 2 */
  numCoarseSegmChannels?: number;
  /** @default 24 */
  numPatches?: number;
  /** @default 'deconv' */
  upsample?: UpsampleKind;
  /** ConvTranspose kernel (stride 2, padding k/2 − 1). @default 4 */
  deconvKernel?: number;
  /** STL block size r. @default 2 */
  stlFactor?: number;
  /** Kernel of the conv making C·r² channels for the STL. @default 3 */
  stlKernel?: number;
  /** Bilinear ×upScale after the upsampler; 1 = none. @default 2 */
  upScale?: number;
  /** UV confidence heads (detectron2 `DensePoseChartConfidencePredictorMixin`). @default '' */
  uvConfidence?: UvConfidenceKind;
  /** Fine/coarse segmentation confidence heads (1 channel each). @default false */
  segmConfidence?: boolean;
}

/**
 * Chart predictor. `deconv`: detectron2's `DensePoseChartPredictor` — per output a ConvTranspose
 * (`ann_index_lowres`, `index_uv_lowres`, `u_lowres`, `v_lowres`), then bilinear ×upScale (half-pixel).
 * `stl`: the paper's Scale Transfer Layer — per output a conv to C·r² channels (`ann_index`, `index_uv`,
 * `u`, `v`), then depth-to-space (tf/ONNX `DCR` order): r× resolution, no deconvolution, no checkerboard.
 */
export class ChartPredictor extends Module {
  readonly layers: Record<(typeof CHART_OUTPUT_NAMES)[number], Conv2d | ConvTranspose2d>;
  readonly confidenceLayers: Partial<Record<ConfidenceHeadName, Conv2d | ConvTranspose2d>> = {};
  readonly upsample: UpsampleKind;
  readonly r: number;
  readonly upScale: number;
  constructor(readonly options: ChartPredictorOptions) {
    super();
    this.upsample = options.upsample ?? 'deconv';
    this.r = options.stlFactor ?? 2;
    this.upScale = options.upScale ?? 2;
    const s = options.numCoarseSegmChannels ?? 2;
    const p = (options.numPatches ?? 24) + 1;
    const make = (name: string, out: number): Conv2d | ConvTranspose2d => {
      if (this.upsample === 'deconv') {
        const k = options.deconvKernel ?? 4;
        return this.addModule(`${name}_lowres`, new ConvTranspose2d({ inChannels: options.inChannels, outChannels: out, kernel: k, stride: 2, padding: k / 2 - 1 }));
      }
      const k = options.stlKernel ?? 3;
      return this.addModule(name, new Conv2d({ inChannels: options.inChannels, outChannels: out * this.r * this.r, kernel: k, padding: k >> 1 }));
    };
    this.layers = { coarseSegm: make('ann_index', s), fineSegm: make('index_uv', p), u: make('u', p), v: make('v', p) };
    for (const name of confidenceHeadNames(options.uvConfidence ?? '', options.segmConfidence ?? false)) {
      this.confidenceLayers[name] = make(CONFIDENCE_HEADS[name], name === 'fineSegm' || name === 'coarseSegm' ? 1 : p);
    }
  }

  forward<T>(ex: Executor<T>, x: T): ChartOutputs<T> {
    const one = (layer: Conv2d | ConvTranspose2d): T => {
      let y = layer.forward(ex, x);
      if (this.upsample === 'stl') y = ex.depthToSpace(y, this.r, 'DCR');
      return this.upScale === 1 ? y : ex.resize(y, { mode: 'bilinear', scale: this.upScale });
    };
    const l = this.layers;
    const out: ChartOutputs<T> = { coarseSegm: one(l.coarseSegm), fineSegm: one(l.fineSegm), u: one(l.u), v: one(l.v) };
    const heads = Object.entries(this.confidenceLayers) as [ConfidenceHeadName, Conv2d | ConvTranspose2d][];
    if (heads.length > 0) out.confidences = Object.fromEntries(heads.map(([name, layer]) => [name, one(layer)]));
    return out;
  }
}
