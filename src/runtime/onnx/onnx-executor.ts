import { DensePoseError } from '../../errors.ts';
import type { ConvTransposeOptions, Conv2dOptions, Executor, FrozenBatchNormParams, PoolOptions, ResizeMode, ResizeOptions } from '../executor.ts';
import type { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { GraphBuilder, type OnnxAttr } from './graph.ts';
import { foldScaleIntoConv, frozenBnScaleShift, hwioToOihw } from './weights.ts';

/** Memory layout of a tensor inside the ONNX graph. */
export const ONNX_LAYOUTS = ['NHWC', 'NCHW'] as const;
export type OnnxLayout = (typeof ONNX_LAYOUTS)[number];

/**
 * A symbolic tensor of the graph being built. Feature maps live as NCHW inside the graph
 * (`layout: 'NCHW'`, dims `[N,C,H,W]`); fully-connected activations as `[N,F]` (`layout: 'flat'`).
 * Model code never looks inside: it asks `ex.shape(v)`, which answers in NHWC like tfjs.
 */
export interface OnnxValue {
  readonly name: string;
  /** Dims in graph layout; -1 = known only at run time. */
  readonly dims: readonly number[];
  readonly layout: 'NCHW' | 'flat';
}

export interface OnnxExecutorOptions {
  /**
   * Fold a FrozenBatchNorm into the conv that feeds it (when nothing else has read the conv's output),
   * giving one Conv node with initializers `<conv weight name>+bn` and `<bn name>.bias+bn`. When false,
   * BN becomes a `BatchNormalization` node reading the four buffers by their own names.
   * @default true
   */
  foldBatchNorm?: boolean;
  /**
   * Trainable parameters become graph inputs (named by their dotted names, in our layouts, converted
   * inside the graph) instead of initializers, so one session serves every training step and reverse
   * mode can differentiate with respect to them. Non-trainable ones stay initializers.
   * @default false
   */
  trainableInputs?: boolean;
}

const RECORDED_OPS = [
  'conv2d',
  'conv2dTranspose',
  'linear',
  'flatten',
  'relu',
  'sigmoid',
  'add',
  'mul',
  'concatChannels',
  'softmaxChannels',
  'frozenBatchNorm',
  'groupNorm',
  'maxPool',
  'globalAvgPool',
  'resize',
  'resizeLike',
  'depthToSpace',
] as const;

/** How a parameter's values go into the graph. */
type WeightLayout = 'asis' | 'oihw' | 'c11';

/**
 * A trainable parameter fed as a graph input: `oihw` = conv weights converted on the host (HWIO → OIHW,
 * a copy loop far cheaper than an in-graph Transpose), their gradients come back OIHW; `asis` = our layout.
 */
export interface ParameterInput {
  parameter: Parameter;
  layout: 'asis' | 'oihw';
}

interface ConvRecord {
  input: OnnxValue;
  weight: Parameter;
  bias: Parameter | null;
  attrs: Record<string, OnnxAttr>;
  dims: readonly number[];
}

/**
 * Emits an ONNX graph from a model written against `Executor<T>`. Parameters become initializers
 * named by their dotted names under `root` (`backbone.bottom_up.res2.0.conv1.weight`), converted to
 * ONNX layouts (HWIO → OIHW). Each method appends nodes through `this.graph.op(...)`; to support a
 * new executor op, add a method here (and a TfExecutor twin) plus a case in onnx-executor.test.ts.
 *
 * | Executor op | ONNX (opset 17) |
 * |---|---|
 * | conv2d | Conv (pads, strides, dilations, group); weight HWIO → OIHW |
 * | conv2dTranspose | ConvTranspose (pads, output_padding as PyTorch); `[kh,kw,Cout,Cin]` → `[Cin,Cout,kh,kw]` |
 * | frozenBatchNorm | folded into the feeding Conv, else BatchNormalization |
 * | groupNorm | Reshape `[N,G,-1]` → InstanceNormalization → Reshape → Mul/Add (`[C,1,1]`) |
 * | linear / flatten | Gemm / Transpose to NHWC + Flatten |
 * | relu, sigmoid, add, mul | Relu, Sigmoid, Add, Mul |
 * | concatChannels / softmaxChannels | Concat / Softmax, axis 1 |
 * | maxPool / globalAvgPool | MaxPool (pads) / GlobalAveragePool |
 * | resize / resizeLike | Resize (scales or Shape-derived sizes; see `resizeAttrs`) |
 * | depthToSpace | DepthToSpace (DCR or CRD) |
 */
export class OnnxExecutor implements Executor<OnnxValue> {
  readonly kind = 'onnx' as const;
  readonly graph = new GraphBuilder();
  private readonly paramNames: Map<Parameter, string>;
  private readonly weightNames = new Map<string, string>();
  /** Parameter names that already have an initializer in some layout. */
  private readonly weightBases = new Set<string>();
  private readonly convs = new Map<string, ConvRecord>();
  private readonly foldBatchNorm: boolean;
  private readonly trainableInputs: boolean;
  /** Graph input name → the trainable parameter it feeds (with `trainableInputs`) and the layout it is fed in. */
  readonly parameterInputs = new Map<string, ParameterInput>();

  /** `root`: the module whose `namedParameters()` name every parameter the model touches. */
  constructor(root: Module, options: OnnxExecutorOptions = {}) {
    this.paramNames = new Map(root.namedParameters().map(([n, p]) => [p, n]));
    this.foldBatchNorm = options.foldBatchNorm ?? true;
    this.trainableInputs = options.trainableInputs ?? false;
    // Record every op's result dims in the graph (reverse mode reads them: broadcasting, batch-1 shortcuts).
    for (const m of RECORDED_OPS) {
      const f = this[m] as (...a: unknown[]) => OnnxValue;
      (this as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        const v = f.apply(this, a);
        if (!this.graph.valueDims.has(v.name)) this.graph.setDims(v.name, v.dims);
        return v;
      };
    }
  }

  // ---- graph inputs and outputs ------------------------------------------------------------

  /**
   * Declare a float32 graph input. `dims` are in `layout` (-1 = dynamic). NHWC inputs are transposed
   * to NCHW once at the graph entry; NCHW inputs (what detectron2-style callers feed) go straight in.
   */
  input(name: string, dims: readonly number[], layout: OnnxLayout = 'NHWC'): OnnxValue {
    if (dims.length !== 4) throw new DensePoseError('BAD_OPTION', `ONNX input "${name}": shape must have 4 dims [N,H,W,C] or [N,C,H,W], got [${dims.join(',')}]`);
    const axes = layout === 'NHWC' ? ['N', 'H', 'W', 'C'] : ['N', 'C', 'H', 'W'];
    this.graph.inputs.push({ name, dims: [...dims], type: 'float32', dimNames: axes.map((a) => `${name}_${a}`) });
    if (layout === 'NCHW') return { name, dims: [...dims], layout: 'NCHW' };
    const [n, h, w, c] = dims as [number, number, number, number];
    return { name: this.graph.setDims(this.graph.op('Transpose', [name], { perm: { ints: [0, 3, 1, 2] } }), [n, c, h, w]), dims: [n, c, h, w], layout: 'NCHW' };
  }

  /** Make `value` a graph output called `name`; feature maps leave in `layout` (NHWC matches tfjs). */
  output(value: OnnxValue, name: string, layout: OnnxLayout = 'NHWC'): void {
    if (value.layout === 'NCHW' && layout === 'NHWC') {
      this.graph.node('Transpose', [value.name], { perm: { ints: [0, 2, 3, 1] } }, [name]);
      const [n, c, h, w] = value.dims as [number, number, number, number];
      this.graph.outputs.push({ name, dims: [n, h, w, c], type: 'float32' });
    } else {
      this.graph.node('Identity', [value.name], {}, [name]);
      this.graph.outputs.push({ name, dims: [...value.dims], type: 'float32' });
    }
  }

  /** Serialized ModelProto of everything the outputs reach. */
  toModelBytes(docString?: string): Uint8Array {
    if (this.graph.outputs.length === 0) throw new DensePoseError('BAD_OPTION', 'ONNX export: the graph has no outputs (call output() or return values from the build function)');
    return this.graph.toModelBytes({ docString });
  }

  // ---- Executor ------------------------------------------------------------------------------

  shape(x: OnnxValue): number[] {
    if (x.layout === 'flat') return [...x.dims];
    const [n, c, h, w] = x.dims as [number, number, number, number];
    return [n, h, w, c];
  }

  conv2d(x: OnnxValue, weight: Parameter, bias: Parameter | null, options: Conv2dOptions = {}): OnnxValue {
    const [n, , h, w] = this.spatial(x, 'conv2d');
    const [kh, kw, , co] = weight.shape as [number, number, number, number];
    const s = options.stride ?? 1;
    const p = options.padding ?? 0;
    const d = options.dilation ?? 1;
    const attrs: Record<string, OnnxAttr> = {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [s, s] },
      pads: { ints: [p, p, p, p] },
      dilations: { ints: [d, d] },
      group: { i: options.groups ?? 1 },
    };
    const inputs = [x.name, this.weight(weight, 'oihw')];
    if (bias) inputs.push(this.weight(bias, 'asis'));
    const dims = [n, co, convOut(h, kh, s, p, d), convOut(w, kw, s, p, d)];
    const out: OnnxValue = { name: this.graph.op('Conv', inputs, attrs), dims, layout: 'NCHW' };
    this.convs.set(out.name, { input: x, weight, bias, attrs, dims });
    return out;
  }

  conv2dTranspose(x: OnnxValue, weight: Parameter, bias: Parameter | null, options: ConvTransposeOptions): OnnxValue {
    const [n, , h, w] = this.spatial(x, 'conv2dTranspose');
    const [kh, kw, co] = weight.shape as [number, number, number, number];
    const s = options.stride;
    const p = options.padding ?? 0;
    const op = options.outputPadding ?? 0;
    // ONNX ConvTranspose W is [Cin, Cout, kh, kw]: our [kh,kw,Cout,Cin] through the same HWIO→OIHW permutation.
    const inputs = [x.name, this.weight(weight, 'oihw')];
    if (bias) inputs.push(this.weight(bias, 'asis'));
    const name = this.graph.op('ConvTranspose', inputs, {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [s, s] },
      pads: { ints: [p, p, p, p] },
      output_padding: { ints: [op, op] },
    });
    const up = (v: number, k: number) => (v < 0 ? -1 : (v - 1) * s - 2 * p + k + op);
    return { name, dims: [n, co, up(h, kh), up(w, kw)], layout: 'NCHW' };
  }

  linear(x: OnnxValue, weight: Parameter, bias: Parameter | null): OnnxValue {
    if (x.layout !== 'flat') throw new DensePoseError('BAD_INPUT', `ONNX linear: input must be [N,F] (flatten first), got a feature map of NHWC shape [${this.shape(x).join(',')}]`);
    const inputs = [x.name, this.weight(weight, 'asis')];
    if (bias) inputs.push(this.weight(bias, 'asis'));
    return { name: this.graph.op('Gemm', inputs), dims: [x.dims[0]!, weight.shape[1]!], layout: 'flat' };
  }

  flatten(x: OnnxValue): OnnxValue {
    if (x.layout === 'flat') return x;
    // Our FC weights index features in NHWC order, so go back to NHWC before flattening.
    const nhwc = this.graph.op('Transpose', [x.name], { perm: { ints: [0, 2, 3, 1] } });
    const [n, c, h, w] = x.dims as [number, number, number, number];
    const f = c < 0 || h < 0 || w < 0 ? -1 : c * h * w;
    return { name: this.graph.op('Flatten', [nhwc], { axis: { i: 1 } }), dims: [n, f], layout: 'flat' };
  }

  relu(x: OnnxValue): OnnxValue {
    return { ...x, name: this.graph.op('Relu', [x.name]) };
  }

  sigmoid(x: OnnxValue): OnnxValue {
    return { ...x, name: this.graph.op('Sigmoid', [x.name]) };
  }

  add(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Add', a, b);
  }

  mul(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Mul', a, b);
  }

  concatChannels(xs: OnnxValue[]): OnnxValue {
    const first = xs[0];
    if (!first) throw new DensePoseError('BAD_INPUT', 'ONNX concatChannels: needs at least one input');
    if (xs.some((v) => v.layout !== first.layout)) throw new DensePoseError('BAD_INPUT', 'ONNX concatChannels: inputs mix feature maps and flat tensors');
    // The channel axis is 1 in both NCHW and [N,F].
    const c = xs.reduce((acc, v) => (acc < 0 || v.dims[1]! < 0 ? -1 : acc + v.dims[1]!), 0);
    const dims = [...first.dims];
    dims[1] = c;
    return { name: this.graph.op('Concat', xs.map((v) => v.name), { axis: { i: 1 } }), dims, layout: first.layout };
  }

  softmaxChannels(x: OnnxValue): OnnxValue {
    return { ...x, name: this.graph.op('Softmax', [x.name], { axis: { i: 1 } }) };
  }

  frozenBatchNorm(x: OnnxValue, bn: FrozenBatchNormParams): OnnxValue {
    const eps = bn.eps ?? 1e-5;
    const conv = this.convs.get(x.name);
    const constantConv = conv && !(this.trainableInputs && (conv.weight.trainable || conv.bias?.trainable));
    if (this.foldBatchNorm && conv && constantConv && this.graph.uses(x.name) === 0) return this.foldedConv(conv, bn, eps);
    const inputs = [bn.weight, bn.bias, bn.runningMean, bn.runningVar].map((p) => this.weight(p, 'asis'));
    return { ...x, name: this.graph.op('BatchNormalization', [x.name, ...inputs], { epsilon: { f: eps } }) };
  }

  groupNorm(x: OnnxValue, groups: number, gamma: Parameter, beta: Parameter, eps = 1e-5): OnnxValue {
    this.spatial(x, 'groupNorm');
    // PyTorch GN = per-(sample, group) normalisation over (C/G)·H·W values: an InstanceNormalization
    // over [N, G, (C/G)·H·W] with unit scale, then the per-channel affine.
    const grouped = this.graph.setDims(this.graph.op('Reshape', [x.name, this.graph.constInt64([0, groups, -1])]), [x.dims[0]!, groups, -1]);
    const ones = this.graph.constFloat(new Float32Array(groups).fill(1), [groups]);
    const zeros = this.graph.constFloat(new Float32Array(groups), [groups]);
    const normed = this.graph.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: { f: eps } });
    const back = this.graph.setDims(this.graph.op('Reshape', [normed, this.graph.op('Shape', [x.name])]), x.dims);
    const scaled = this.graph.setDims(this.graph.op('Mul', [back, this.weight(gamma, 'c11')]), x.dims);
    return { ...x, name: this.graph.setDims(this.graph.op('Add', [scaled, this.weight(beta, 'c11')]), x.dims) };
  }

  maxPool(x: OnnxValue, options: PoolOptions): OnnxValue {
    const [n, c, h, w] = this.spatial(x, 'maxPool');
    const { kernel: k, stride: s } = options;
    const p = options.padding ?? 0;
    const name = this.graph.op('MaxPool', [x.name], { kernel_shape: { ints: [k, k] }, strides: { ints: [s, s] }, pads: { ints: [p, p, p, p] } });
    return { name, dims: [n, c, convOut(h, k, s, p, 1), convOut(w, k, s, p, 1)], layout: 'NCHW' };
  }

  globalAvgPool(x: OnnxValue): OnnxValue {
    const [n, c] = this.spatial(x, 'globalAvgPool');
    return { name: this.graph.op('GlobalAveragePool', [x.name]), dims: [n, c, 1, 1], layout: 'NCHW' };
  }

  resize(x: OnnxValue, options: ResizeOptions): OnnxValue {
    const [n, c, h, w] = this.spatial(x, 'resize');
    const attrs = resizeAttrs(options.mode, options.alignCorners ?? false);
    if (options.size) {
      const [oh, ow] = options.size;
      const sizes = this.graph.op('Concat', [this.shapeSlice(x, 0, 2), this.graph.constInt64([oh, ow])], { axis: { i: 0 } });
      return { name: this.graph.op('Resize', [x.name, '', '', sizes], attrs), dims: [n, c, oh, ow], layout: 'NCHW' };
    }
    const s = options.scale ?? 1;
    if (!Number.isInteger(s) || s < 1) throw new DensePoseError('BAD_OPTION', `ONNX resize: scale must be a positive integer, got ${s}`);
    const scales = this.graph.constFloat([1, 1, s, s], [4]);
    const up = (v: number) => (v < 0 ? -1 : v * s);
    return { name: this.graph.op('Resize', [x.name, '', scales], attrs), dims: [n, c, up(h), up(w)], layout: 'NCHW' };
  }

  resizeLike(x: OnnxValue, like: OnnxValue, mode: ResizeMode): OnnxValue {
    const [n, c] = this.spatial(x, 'resizeLike');
    const [, , lh, lw] = this.spatial(like, 'resizeLike');
    const sizes = this.graph.op('Concat', [this.shapeSlice(x, 0, 2), this.shapeSlice(like, 2, 4)], { axis: { i: 0 } });
    return { name: this.graph.op('Resize', [x.name, '', '', sizes], resizeAttrs(mode, false)), dims: [n, c, lh, lw], layout: 'NCHW' };
  }

  depthToSpace(x: OnnxValue, blockSize: number, mode: 'DCR' | 'CRD' = 'DCR'): OnnxValue {
    const [n, c, h, w] = this.spatial(x, 'depthToSpace');
    const r = blockSize;
    const name = this.graph.op('DepthToSpace', [x.name], { blocksize: { i: r }, mode: { s: mode } });
    return { name, dims: [n, c < 0 ? -1 : c / (r * r), h < 0 ? -1 : h * r, w < 0 ? -1 : w * r], layout: 'NCHW' };
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Dotted name of a parameter under the root module. */
  parameterName(p: Parameter): string {
    const name = this.paramNames.get(p);
    if (name === undefined) {
      throw new DensePoseError('BAD_INPUT', `ONNX export: parameter "${p.localName}" [${p.shape.join(',')}] is not registered under the root module given to the exporter`);
    }
    return name;
  }

  /**
   * Initializer for a parameter in an ONNX layout, named by its dotted name. A parameter used in a
   * second layout (rare) gets `<name>:<layout>` so names stay unique.
   */
  private weight(p: Parameter, layout: WeightLayout): string {
    const base = this.parameterName(p);
    const key = `${base}|${layout}`;
    const known = this.weightNames.get(key);
    if (known) return known;
    if (this.trainableInputs && p.trainable) return this.weightInput(p, base, layout, key);
    const name = this.weightBases.has(base) ? `${base}:${layout}` : base;
    this.weightBases.add(base);
    const { data, dims } = this.convert(p, layout);
    this.graph.addInitializer({ name, dims, type: 'float32', data });
    this.weightNames.set(key, name);
    return name;
  }

  /** A trainable parameter as a graph input (conv weights fed in OIHW, the rest as they are). */
  private weightInput(p: Parameter, base: string, layout: WeightLayout, key: string): string {
    const fed = layout === 'oihw' ? 'oihw' : 'asis';
    const known = this.parameterInputs.get(base);
    if (known && known.layout !== fed) throw new DensePoseError('UNSUPPORTED', `ONNX training graph: parameter "${base}" is used both as a conv weight and otherwise`);
    if (!known) {
      const dims = fed === 'oihw' ? [p.shape[3]!, p.shape[2]!, p.shape[0]!, p.shape[1]!] : [...p.shape];
      this.graph.inputs.push({ name: base, dims, type: 'float32' });
      this.parameterInputs.set(base, { parameter: p, layout: fed });
    }
    let name = base;
    if (layout === 'c11') name = this.graph.setDims(this.graph.op('Reshape', [base, this.graph.constInt64([-1, 1, 1])]), [p.shape[0]!, 1, 1]);
    this.weightNames.set(key, name);
    return name;
  }

  private convert(p: Parameter, layout: WeightLayout): { data: Float32Array; dims: number[] } {
    const data = paramData(p);
    if (layout === 'oihw') return hwioToOihw(data, p.shape);
    if (layout === 'c11') return { data, dims: [data.length, 1, 1] };
    return { data, dims: [...p.shape] };
  }

  private foldedConv(conv: ConvRecord, bn: FrozenBatchNormParams, eps: number): OnnxValue {
    const { scale, shift } = frozenBnScaleShift(paramData(bn.weight), paramData(bn.bias), paramData(bn.runningMean), paramData(bn.runningVar), eps);
    const w = hwioToOihw(paramData(conv.weight), conv.weight.shape);
    const co = w.dims[0]!;
    const folded = foldScaleIntoConv(w.data, co, conv.bias ? paramData(conv.bias) : null, scale, shift);
    const wName = this.graph.addInitializer({ name: `${this.parameterName(conv.weight)}+bn`, dims: w.dims, type: 'float32', data: folded.weight });
    const bName = this.graph.addInitializer({ name: `${this.parameterName(bn.bias)}+bn`, dims: [co], type: 'float32', data: folded.bias });
    return { name: this.graph.op('Conv', [conv.input.name, wName, bName], conv.attrs), dims: conv.dims, layout: 'NCHW' };
  }

  /** `Shape(x)[start:end]` as an int64 vector. */
  private shapeSlice(x: OnnxValue, start: number, end: number): string {
    return this.graph.op('Shape', [x.name], { start: { i: start }, end: { i: end } });
  }

  private spatial(x: OnnxValue, op: string): [number, number, number, number] {
    if (x.layout !== 'NCHW') throw new DensePoseError('BAD_INPUT', `ONNX ${op}: needs a feature map [N,H,W,C], got a flat tensor [${x.dims.join(',')}]`);
    return x.dims as unknown as [number, number, number, number];
  }

  private binary(op: 'Add' | 'Mul', a: OnnxValue, b: OnnxValue): OnnxValue {
    if (a.layout !== b.layout || a.dims.length !== b.dims.length) {
      throw new DensePoseError('BAD_INPUT', `ONNX ${op}: operands must both be feature maps or both flat, got [${this.shape(a).join(',')}] and [${this.shape(b).join(',')}]`);
    }
    const dims = a.dims.map((da, i) => broadcastDim(da, b.dims[i]!, op));
    this.graph.setDims(a.name, a.dims);
    this.graph.setDims(b.name, b.dims);
    return { name: this.graph.setDims(this.graph.op(op, [a.name, b.name]), dims), dims, layout: a.layout };
  }
}

/** Float32 values of a parameter (copied out of its backend). */
function paramData(p: Parameter): Float32Array {
  const d = p.variable.dataSync();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}

function convOut(v: number, k: number, s: number, p: number, d: number): number {
  return v < 0 ? -1 : Math.floor((v + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function broadcastDim(a: number, b: number, op: string): number {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (a < 0) return b;
  if (b < 0) return a;
  throw new DensePoseError('SHAPE_MISMATCH', `ONNX ${op}: dims ${a} and ${b} do not broadcast`);
}

/**
 * Resize attributes equal to TfExecutor: nearest = PyTorch's `floor(dst·in/out)` (asymmetric + floor);
 * bilinear = half-pixel centres (tfjs halfPixelCenters; ONNX 'half_pixel', not 'pytorch_half_pixel',
 * which differs only for 1-pixel outputs) or align-corners.
 */
function resizeAttrs(mode: ResizeMode, alignCorners: boolean): Record<string, OnnxAttr> {
  if (mode === 'nearest') return { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' } };
  return { mode: { s: 'linear' }, coordinate_transformation_mode: { s: alignCorners ? 'align_corners' : 'half_pixel' } };
}
