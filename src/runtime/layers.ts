import * as tf from '@tensorflow/tfjs-core';
import type { Executor, FrozenBatchNormParams } from './executor.ts';
import { Module } from './module.ts';
import type { Parameter } from './parameter.ts';

/** Weight initialisers, named after detectron2's (`c2_msra_fill` = Kaiming normal, fan_out, ReLU gain). */
export const INITS = ['msra', 'xavier', 'normal001', 'normal0001', 'zeros'] as const;
export type Init = (typeof INITS)[number];

let seedCounter = 1;
/** Make parameter initialisation reproducible: every later init draws seeds from this counter. */
export function seedInit(seed: number): void {
  seedCounter = seed;
}

function initTensor(shape: number[], init: Init, fanIn: number, fanOut: number): tf.Tensor {
  const seed = seedCounter++;
  switch (init) {
    case 'msra':
      return tf.randomNormal(shape, 0, Math.sqrt(2 / fanOut), 'float32', seed);
    case 'xavier': {
      const a = Math.sqrt(3 / fanIn);
      return tf.randomUniform(shape, -a, a, 'float32', seed);
    }
    case 'normal001':
      return tf.randomNormal(shape, 0, 0.01, 'float32', seed);
    case 'normal0001':
      return tf.randomNormal(shape, 0, 0.001, 'float32', seed);
    case 'zeros':
      return tf.zeros(shape);
  }
}

/** detectron2 FrozenBatchNorm2d: buffers `weight, bias, running_mean, running_var`, never trained. */
export class FrozenBatchNorm2d extends Module {
  readonly params: FrozenBatchNormParams;
  constructor(channels: number) {
    super();
    this.params = {
      weight: this.addParameter('weight', tf.ones([channels]), { trainable: false }),
      bias: this.addParameter('bias', tf.zeros([channels]), { trainable: false }),
      runningMean: this.addParameter('running_mean', tf.zeros([channels]), { trainable: false }),
      runningVar: this.addParameter('running_var', tf.ones([channels]), { trainable: false }),
    };
  }
  forward<T>(ex: Executor<T>, x: T): T {
    return ex.frozenBatchNorm(x, this.params);
  }
}

/** GroupNorm with affine `weight`/`bias` (PyTorch names). */
export class GroupNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(readonly groups: number, channels: number) {
    super();
    this.weight = this.addParameter('weight', tf.ones([channels]));
    this.bias = this.addParameter('bias', tf.zeros([channels]));
  }
  forward<T>(ex: Executor<T>, x: T): T {
    return ex.groupNorm(x, this.groups, this.weight, this.bias);
  }
}

export type NormKind = '' | 'FrozenBN' | 'GN';

export interface Conv2dLayerOptions {
  inChannels: number;
  outChannels: number;
  kernel: number;
  /** @default 1 */
  stride?: number;
  /** @default 0 */
  padding?: number;
  /** @default 1 */
  dilation?: number;
  /** @default 1 */
  groups?: number;
  /** @default true (false when a norm follows, as detectron2 does) */
  bias?: boolean;
  /** Norm applied after the conv, registered as child `norm` (detectron2 `Conv2d(norm=...)`). @default '' */
  norm?: NormKind;
  /** GroupNorm groups. @default 32 */
  gnGroups?: number;
  /** @default 'msra' */
  init?: Init;
}

/** detectron2's `Conv2d` wrapper: conv + optional norm child (`conv1.weight`, `conv1.norm.weight`). Weight `[kh,kw,Cin/groups,Cout]`. */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly norm: FrozenBatchNorm2d | GroupNorm | null;
  constructor(readonly options: Conv2dLayerOptions) {
    super();
    const { inChannels, outChannels, kernel } = options;
    const groups = options.groups ?? 1;
    const normKind = options.norm ?? '';
    const fanIn = (inChannels / groups) * kernel * kernel;
    const fanOut = (outChannels / groups) * kernel * kernel;
    this.weight = this.addParameter('weight', initTensor([kernel, kernel, inChannels / groups, outChannels], options.init ?? 'msra', fanIn, fanOut));
    this.bias = (options.bias ?? normKind === '') ? this.addParameter('bias', tf.zeros([outChannels])) : null;
    this.norm =
      normKind === 'FrozenBN'
        ? this.addModule('norm', new FrozenBatchNorm2d(outChannels))
        : normKind === 'GN'
          ? this.addModule('norm', new GroupNorm(options.gnGroups ?? 32, outChannels))
          : null;
  }
  forward<T>(ex: Executor<T>, x: T): T {
    const o = this.options;
    const y = ex.conv2d(x, this.weight, this.bias, { stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups });
    return this.norm ? this.norm.forward(ex, y) : y;
  }
}

export interface ConvTranspose2dLayerOptions {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** @default 0 */
  padding?: number;
  /** @default 'msra' */
  init?: Init;
}

/** PyTorch ConvTranspose2d; weight `[kh,kw,Cout,Cin]` (tfjs layout). */
export class ConvTranspose2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(readonly options: ConvTranspose2dLayerOptions) {
    super();
    const { inChannels, outChannels, kernel } = options;
    // PyTorch computes fans of a ConvTranspose2d weight `[Cin, Cout, kh, kw]` from its dims 1 and 0: fan_in = Cout·k²,
    // fan_out = Cin·k² (so detectron2's msra fill for the DensePose predictor has std √(2/(Cin·k²))).
    this.weight = this.addParameter('weight', initTensor([kernel, kernel, outChannels, inChannels], options.init ?? 'msra', outChannels * kernel * kernel, inChannels * kernel * kernel));
    this.bias = this.addParameter('bias', tf.zeros([outChannels]));
  }
  forward<T>(ex: Executor<T>, x: T): T {
    return ex.conv2dTranspose(x, this.weight, this.bias, { stride: this.options.stride, padding: this.options.padding });
  }
}

/** Fully connected layer; weight `[in,out]` (transposed from PyTorch's `[out,in]`). */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(inFeatures: number, outFeatures: number, init: Init = 'xavier') {
    super();
    this.weight = this.addParameter('weight', initTensor([inFeatures, outFeatures], init, inFeatures, outFeatures));
    this.bias = this.addParameter('bias', tf.zeros([outFeatures]));
  }
  forward<T>(ex: Executor<T>, x: T): T {
    return ex.linear(x, this.weight, this.bias);
  }
}
