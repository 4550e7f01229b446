import type { Executor } from '../../runtime/executor.ts';
import { Conv2d } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
import type { HeadNorm } from './config.ts';

export interface DecoderOptions {
  /** Channels of every input map (FPN out channels). */
  inChannels: number;
  /** @default 256 */
  convDims?: number;
  /** @default 256 */
  numClasses?: number;
  /** @default '' */
  norm?: HeadNorm;
  /** Strides of the inputs, finest first. @default [4, 8, 16, 32] */
  featureStrides?: number[];
  /** Input names, as the FPN outputs; become the child names. @default ['p2', 'p3', 'p4', 'p5'] */
  featureNames?: string[];
  /** Stride of the fused output. @default 4 */
  commonStride?: number;
}

/**
 * One level's path to the common stride: `max(1, log2(stride/common))` × (conv3×3 + ReLU, then
 * bilinear ×2 while the level is coarser than the common stride). Children are numbered as in the
 * PyTorch `nn.Sequential` they mirror: the parameter-free upsamples take indices too (`p4.0`, `p4.2`).
 */
class ScaleHead extends Module {
  readonly convs: Conv2d[] = [];
  constructor(inChannels: number, convDims: number, norm: HeadNorm, length: number, readonly upsample: boolean) {
    super();
    for (let k = 0; k < length; k++) {
      const conv = new Conv2d({ inChannels: k === 0 ? inChannels : convDims, outChannels: convDims, kernel: 3, padding: 1, norm, bias: norm === '' });
      this.convs.push(this.addModule(String(upsample ? 2 * k : k), conv));
    }
  }
  forward<T>(ex: Executor<T>, x: T): T {
    let y = x;
    for (const conv of this.convs) {
      y = ex.relu(conv.forward(ex, y));
      if (this.upsample) y = ex.resize(y, { mode: 'bilinear', scale: 2 });
    }
    return y;
  }
}

/**
 * detectron2 DensePose `Decoder` (Panoptic-FPN semantic head): every FPN level through its scale head to
 * stride 4, summed, then a 1×1 conv. Parameter names `p2.0.weight` … `predictor.weight`, mounted as
 * `roi_heads.decoder`. Inputs NHWC `[1,H/s,W/s,C]` finest first; output `[1,H/4,W/4,numClasses]`.
 */
export class Decoder extends Module {
  readonly heads: ScaleHead[] = [];
  readonly predictor: Conv2d;
  constructor(readonly options: DecoderOptions) {
    super();
    const convDims = options.convDims ?? 256;
    const strides = options.featureStrides ?? [4, 8, 16, 32];
    const names = options.featureNames ?? strides.map((s) => `p${Math.round(Math.log2(s))}`);
    const common = options.commonStride ?? 4;
    strides.forEach((s, i) => {
      const length = Math.max(1, Math.round(Math.log2(s) - Math.log2(common)));
      this.heads.push(this.addModule(names[i]!, new ScaleHead(options.inChannels, convDims, options.norm ?? '', length, s !== common)));
    });
    this.predictor = this.addModule('predictor', new Conv2d({ inChannels: convDims, outChannels: options.numClasses ?? 256, kernel: 1 }));
  }

  forward<T>(ex: Executor<T>, features: readonly T[]): T {
    let x: T | undefined;
    this.heads.forEach((head, i) => {
      const y = head.forward(ex, features[i]!);
      x = x === undefined ? y : ex.add(x, y);
    });
    return this.predictor.forward(ex, x!);
  }
}
