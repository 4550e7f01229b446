import type { Parameter } from './parameter.ts';

/**
 * The op set model code is written against. One model definition, two executors:
 * `TfExecutor` (tfjs tensors, trainable, NHWC) and `OnnxExecutor` (symbolic values that become an
 * ONNX graph, NCHW inside the graph). Every op here speaks NHWC semantics: `x` is `[N,H,W,C]`,
 * "channel axis" means the last one, conv weights are our HWIO layout `[kh,kw,Cin/groups,Cout]`.
 * Executors translate layouts themselves.
 */
export interface Executor<T> {
  readonly kind: 'tfjs' | 'onnx';
  /** Static shape `[N,H,W,C]` where known; -1 for dims only known at run time (ONNX dynamic axes). */
  shape(x: T): number[];

  /** 2-D convolution with PyTorch-style symmetric explicit padding (detectron2 parity). */
  conv2d(x: T, weight: Parameter, bias: Parameter | null, options?: Conv2dOptions): T;
  /**
   * Transposed convolution as PyTorch's ConvTranspose2d(stride, padding, output_padding).
   * weight: `[kh,kw,Cout,Cin]` (tfjs conv2dTranspose layout).
   */
  conv2dTranspose(x: T, weight: Parameter, bias: Parameter | null, options: ConvTransposeOptions): T;
  /** Fully connected: x `[N,F]`, weight `[F,O]`, bias `[O]`. */
  linear(x: T, weight: Parameter, bias: Parameter | null): T;
  /** `[N,H,W,C]` → `[N,H·W·C]` in NHWC order (our FC weights follow it). */
  flatten(x: T): T;

  relu(x: T): T;
  sigmoid(x: T): T;
  add(a: T, b: T): T;
  mul(a: T, b: T): T;
  /** Concatenate along the channel axis. */
  concatChannels(xs: T[]): T;
  /** Softmax along the channel axis. */
  softmaxChannels(x: T): T;

  /** y = x·scale + shift per channel, from detectron2 FrozenBatchNorm2d buffers (weight, bias, running_mean, running_var). */
  frozenBatchNorm(x: T, bn: FrozenBatchNormParams): T;
  /** GroupNorm over channel groups (PyTorch semantics, eps 1e-5). */
  groupNorm(x: T, groups: number, gamma: Parameter, beta: Parameter, eps?: number): T;

  /** Max pooling with symmetric explicit padding (padded cells never win). */
  maxPool(x: T, options: PoolOptions): T;
  /** Mean over H and W, keeping dims: `[N,1,1,C]`. */
  globalAvgPool(x: T): T;

  /** Resize by an integer scale or to a fixed size. */
  resize(x: T, options: ResizeOptions): T;
  /** Resize to the spatial size of `like` (dynamic in ONNX). */
  resizeLike(x: T, like: T, mode: ResizeMode): T;
  /**
   * Depth-to-space ("pixel shuffle", Scale Transfer Layer): `[N,H,W,C·r²]` → `[N,rH,rW,C]`.
   * mode 'DCR' = tf.depthToSpace order (channel index (i·r+j)·C + c); 'CRD' = PyTorch pixel_shuffle order (c·r² + i·r + j).
   */
  depthToSpace(x: T, blockSize: number, mode?: 'DCR' | 'CRD'): T;
}

export interface Conv2dOptions {
  /** @default 1 */
  stride?: number;
  /** Symmetric zero padding on each side (PyTorch `padding`). @default 0 */
  padding?: number;
  /** @default 1 */
  dilation?: number;
  /** Channel groups (ResNeXt). Weight is `[kh,kw,Cin/groups,Cout]`. @default 1 */
  groups?: number;
}

export interface ConvTransposeOptions {
  stride: number;
  /** PyTorch ConvTranspose2d `padding`. @default 0 */
  padding?: number;
  /** PyTorch `output_padding`. @default 0 */
  outputPadding?: number;
}

export interface PoolOptions {
  kernel: number;
  stride: number;
  /** @default 0 */
  padding?: number;
}

export type ResizeMode = 'nearest' | 'bilinear';

export interface ResizeOptions {
  mode: ResizeMode;
  /** Integer up-scale factor (FPN top-down ×2, decoder ×2). */
  scale?: number;
  /** Output [h, w]. */
  size?: [number, number];
  /**
   * Bilinear corner convention: false = half-pixel centres (PyTorch align_corners=False, default),
   * true = align corners. Nearest always uses PyTorch's `floor(dst·in/out)` rule.
   * @default false
   */
  alignCorners?: boolean;
}

/** detectron2 FrozenBatchNorm2d buffers; the executor folds them to scale/shift (eps 1e-5). */
export interface FrozenBatchNormParams {
  weight: Parameter;
  bias: Parameter;
  runningMean: Parameter;
  runningVar: Parameter;
  /** @default 1e-5 */
  eps?: number;
}
