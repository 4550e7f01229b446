import { DensePoseError } from '../../../errors.ts';
import type { GraphBuilder, GraphNode, OnnxAttr } from '../graph.ts';

/**
 * Adjoints (vector-Jacobian products) of the ONNX ops our executors and loss ops emit, written as ONNX
 * nodes. Each rule gets the forward node and the gradients of its outputs and returns the gradient of
 * each input (undefined where the input is not differentiable or not needed). Shapes stay dynamic:
 * sizes come from `Shape` of forward values, so one graph serves every image size and RoI count.
 *
 * | op | adjoint |
 * |---|---|
 * | Conv | dX: Conv with the flipped kernel at stride 1, else ConvTranspose (output_padding from static sizes, else s−1 and a Slice to the input size); dW: one MatMul per kernel tap (grouped: a Conv of the batch/channel-swapped tensors, stride ↔ dilation); db: ReduceSum |
 * | ConvTranspose | dX: Conv with the same weight; dW: Conv of the swapped output gradient with the swapped input (dilation = stride) |
 * | Gemm / MatMul | Gemm / MatMul with transposes; bias: ReduceSum |
 * | Relu, Sigmoid, Abs, Neg, Exp, Log, Sqrt | elementwise |
 * | Add, Sub, Mul, Div, Where | elementwise, summed over broadcast axes (static dims from `GraphBuilder.valueDims`) |
 * | BatchNormalization (inference) | dX = dY·scale/√(var+ε); its buffers are constants |
 * | InstanceNormalization (GroupNorm) | the normalisation's VJP, recomputing mean and variance |
 * | MaxPool | MaxPool's indices + ScatterElements(add) |
 * | GlobalAveragePool, ReduceMean, ReduceSum | broadcast back (Expand), / count |
 * | Resize | separable: A_hᵀ·dY·A_w, where A = the same Resize applied to an identity matrix (exact for every mode); nearest with an integer scale: AveragePool·s² |
 * | DepthToSpace | SpaceToDepth (DCR) or the inverse reshape/transpose (CRD) |
 * | Softmax, LogSoftmax | the usual row formulas |
 * | Concat | Split by the inputs' sizes; Transpose: inverse perm; Reshape/Flatten/Identity: reshape back |
 * | Gather (axis 0) | ScatterND(add) into zeros |
 */
export interface AdjointContext {
  g: GraphBuilder;
  node: GraphNode;
  /** Gradient of each output (undefined: none reached it). */
  dy: (string | undefined)[];
  /** Which inputs need a gradient. */
  need: boolean[];
  /** Static dims of a forward value where known. */
  dims(value: string): readonly number[] | undefined;
}

export type Adjoint = (c: AdjointContext) => (string | undefined)[];

function attrInts(n: GraphNode, name: string, fallback: readonly number[]): readonly number[] {
  const a = n.attrs[name];
  return a && 'ints' in a ? a.ints : fallback;
}

function attrInt(n: GraphNode, name: string, fallback: number): number {
  const a = n.attrs[name];
  return a && 'i' in a ? a.i : fallback;
}

function attrFloat(n: GraphNode, name: string, fallback: number): number {
  const a = n.attrs[name];
  return a && 'f' in a ? a.f : fallback;
}

function attrString(n: GraphNode, name: string, fallback: string): string {
  const a = n.attrs[name];
  return a && 's' in a ? a.s : fallback;
}

/** dY of a single-output node (rules only run when it exists). */
function dy0(c: AdjointContext): string {
  return c.dy[0]!;
}

const shapeOf = (g: GraphBuilder, v: string, start?: number, end?: number): string => {
  const attrs: Record<string, OnnxAttr> = {};
  if (start !== undefined) attrs.start = { i: start };
  if (end !== undefined) attrs.end = { i: end };
  return g.op('Shape', [v], attrs);
};

const zeroScalar = (g: GraphBuilder) => g.constFloat([0], []);

/** Sum `grad` (shaped like `out`) down to the shape of `operand` (numpy broadcasting undone). */
export function unbroadcast(c: AdjointContext, grad: string, operand: string, out: string): string {
  const g = c.g;
  const da = c.dims(operand);
  const dout = c.dims(out);
  if (!da || !dout) {
    if (da && dout === undefined && da.every((d) => d !== 1)) return grad;
    throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: ${c.node.opType} (${c.node.name}) needs static dims of "${operand}" and "${out}" to undo broadcasting; record them with GraphBuilder.setDims`);
  }
  const lead = dout.length - da.length;
  const axes: number[] = [];
  for (let i = 0; i < dout.length; i++) {
    if (i < lead) axes.push(i);
    else if (da[i - lead] === 1 && dout[i] !== 1) axes.push(i);
  }
  if (axes.length === 0) return grad;
  const summed = g.op('ReduceSum', [grad, g.constInt64(axes)], { keepdims: { i: 1 } });
  if (lead === 0) return summed;
  if (da.some((d) => d < 0)) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: ${c.node.opType} broadcasts a lower-rank operand of dynamic dims [${da.join(',')}]`);
  return g.op('Reshape', [summed, g.constInt64([...da])]);
}

/** Gradient wrt input `i` of an elementwise binary op. */
function binaryGrad(c: AdjointContext, i: number, grad: () => string): string | undefined {
  if (!c.need[i]) return undefined;
  // Against a scalar (a constant like 0.5), the operand is not broadcast.
  const others = c.node.inputs.filter((v, k) => k !== i && k > (c.node.opType === 'Where' ? 0 : -1));
  const od = c.dims(c.node.inputs[i]!);
  if (others.every((o) => c.dims(o)?.every((d) => d === 1) && (c.dims(o)!.length <= (od?.length ?? 0) || c.dims(o)!.length === 0))) return grad();
  return unbroadcast(c, grad(), c.node.inputs[i]!, c.node.outputs[0]!);
}

// ---- convolutions ------------------------------------------------------------------------------

function convAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const [x, w, b] = node.inputs as [string, string, string | undefined];
  const dy = dy0(c);
  const wd = c.dims(w);
  if (!wd || wd.length !== 4 || wd.some((d) => d < 0)) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: Conv ${node.name} needs a static 4-D weight`);
  const [co, cig, kh, kw] = wd as [number, number, number, number];
  const strides = attrInts(node, 'strides', [1, 1]);
  const pads = attrInts(node, 'pads', [0, 0, 0, 0]);
  const dil = attrInts(node, 'dilations', [1, 1]);
  const group = attrInt(node, 'group', 1);
  if (pads[0] !== pads[2] || pads[1] !== pads[3]) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: Conv ${node.name} has asymmetric pads`);
  const out: (string | undefined)[] = [undefined, undefined, undefined];

  if (c.need[0]) {
    const xd = c.dims(x);
    const k = [kh, kw];
    const staticPad = [0, 1].map((a) => {
      const h = xd?.[2 + a];
      if (strides[a] === 1) return 0;
      if (h === undefined || h < 0) return -1;
      return (h + 2 * pads[a]! - dil[a]! * (k[a]! - 1) - 1) % strides[a]!;
    });
    const fullPads = [0, 1].map((a) => dil[a]! * (k[a]! - 1) - pads[a]!);
    if (strides.every((s) => s === 1) && fullPads.every((p) => p >= 0)) {
      // Stride 1: dX is a plain conv of dY with the flipped, in/out-swapped kernel ("full" padding). ORT runs
      // Conv in its blocked (NCHWc) kernels, several times faster than ConvTranspose here.
      out[0] = g.op('Conv', [dy, flippedKernel(g, w, [co, cig, kh, kw], group)], {
        kernel_shape: { ints: [kh, kw] },
        pads: { ints: [fullPads[0]!, fullPads[1]!, fullPads[0]!, fullPads[1]!] },
        dilations: { ints: dil },
        group: { i: group },
      });
    } else {
      const dynamic = staticPad.some((p) => p < 0);
      const outputPadding = dynamic ? strides.map((s) => s - 1) : staticPad;
      let dx = g.op('ConvTranspose', [dy, w], {
        kernel_shape: { ints: [kh, kw] },
        strides: { ints: strides },
        pads: { ints: pads },
        dilations: { ints: dil },
        group: { i: group },
        output_padding: { ints: outputPadding },
      });
      if (dynamic) dx = g.op('Slice', [dx, g.constInt64([0, 0]), shapeOf(g, x, 2, 4), g.constInt64([2, 3])]);
      out[0] = dx;
    }
  }
  if (c.need[1]) out[1] = group === 1 ? convWeightGradTaps(c, x, dy, wd as Shape4, strides, pads, dil) : convWeightGradGrouped(c, x, dy, wd as Shape4, strides, pads, dil, group);
  if (b !== undefined && c.need[2]) out[2] = g.op('ReduceSum', [dy, g.constInt64([0, 2, 3])], { keepdims: { i: 0 } });
  return out;
}

type Shape4 = [number, number, number, number];

/** Conv weight `[g·co, ci, kh, kw]` → `[g·ci, co, kh, kw]` rotated 180° spatially: the kernel of dX = conv(dY). */
function flippedKernel(g: GraphBuilder, w: string, [cout, ci, kh, kw]: Shape4, group: number): string {
  const co = cout / group;
  const swapped =
    group === 1
      ? g.op('Transpose', [w], { perm: { ints: [1, 0, 2, 3] } })
      : g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [w, g.constInt64([group, co, ci, kh, kw])])], { perm: { ints: [0, 2, 1, 3, 4] } }), g.constInt64([group * ci, co, kh, kw])]);
  return g.op('Slice', [swapped, g.constInt64([-1, -1]), g.constInt64([-(kh + 1), -(kw + 1)]), g.constInt64([2, 3]), g.constInt64([-1, -1])]);
}

/** `[N,C,H,W]` → `[C, N·H·W]` (channels first, then batch and space); a free reshape when N = 1. */
function channelRows(c: AdjointContext, v: string, channels: number, batchOne: boolean): string {
  const g = c.g;
  const t = batchOne ? v : g.op('Transpose', [v], { perm: { ints: [1, 0, 2, 3] } });
  return g.op('Reshape', [t, g.constInt64([channels, -1])]);
}

/**
 * dW of an ungrouped conv, one MatMul per kernel tap: dW[:,:,a,b] = dY_rows `[Co, N·Ho·Wo]` · X_tap_rowsᵀ,
 * X_tap = the padded input sliced from (a·d, b·d) with step s to the output size. Big, well-shaped GEMMs.
 */
function convWeightGradTaps(c: AdjointContext, x: string, dy: string, wd: Shape4, strides: readonly number[], pads: readonly number[], dil: readonly number[]): string {
  const g = c.g;
  const [co, ci, kh, kw] = wd;
  const batchOne = c.dims(x)?.[0] === 1;
  const [ph, pw] = [pads[0]!, pads[1]!];
  const padded = ph || pw ? g.op('Pad', [x, g.constInt64([0, 0, ph, pw, 0, 0, ph, pw])]) : x;
  const dyRows = channelRows(c, dy, co, batchOne);
  // Output size − 1, times stride, + 1: the extent each tap slice spans.
  const span = g.op('Add', [g.op('Mul', [g.op('Sub', [shapeOf(g, dy, 2, 4), g.constInt64([1, 1])]), g.constInt64([strides[0]!, strides[1]!])]), g.constInt64([1, 1])]);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const start = g.constInt64([a * dil[0]!, b * dil[1]!]);
      const slice = g.op('Slice', [padded, start, g.op('Add', [start, span]), g.constInt64([2, 3]), g.constInt64([strides[0]!, strides[1]!])]);
      const xRows = channelRows(c, slice, ci, batchOne);
      const tap = g.op('MatMul', [dyRows, g.op('Transpose', [xRows], { perm: { ints: [1, 0] } })]);
      taps.push(g.op('Unsqueeze', [tap, g.constInt64([2])]));
    }
  }
  const stacked = taps.length === 1 ? taps[0]! : g.op('Concat', taps, { axis: { i: 2 } });
  return g.setDims(g.op('Reshape', [stacked, g.constInt64([co, ci, kh, kw])]), wd);
}

/**
 * dW of a grouped conv: dW[o,i,a,b] = Σ_{n,y,x} dY[n,o,y,x]·X[n,i,y·s+a·d−p, x·s+b·d−p] as one conv whose
 * batch is X's channels and whose channels are X's batch, with dY (batch/channel swapped) as kernel,
 * stride d and dilation s; groups by regrouping the channels.
 */
function convWeightGradGrouped(c: AdjointContext, x: string, dy: string, wd: Shape4, strides: readonly number[], pads: readonly number[], dil: readonly number[], group: number): string {
  const g = c.g;
  const [co, ci, kh, kw] = wd;
  // [N, g·ci, H, W] → [ci, g·N, H, W] (channel j·N + n), so group j of the conv sees group j's channels.
  const t = g.op('Transpose', [x], { perm: { ints: [1, 0, 2, 3] } });
  const r = g.op('Reshape', [t, g.constInt64([group, ci, -1])]);
  const p = g.op('Transpose', [r], { perm: { ints: [1, 0, 2] } });
  const n = shapeOf(g, x, 0, 1);
  const shape = g.op('Concat', [g.constInt64([ci]), g.op('Mul', [n, g.constInt64([group])]), shapeOf(g, x, 2, 4)], { axis: { i: 0 } });
  const xs = g.op('Reshape', [p, shape]);
  const dys = g.op('Transpose', [dy], { perm: { ints: [1, 0, 2, 3] } });
  const full = g.op('Conv', [xs, dys], { strides: { ints: dil }, dilations: { ints: strides }, pads: { ints: pads }, group: { i: group } });
  const cut = g.op('Slice', [full, g.constInt64([0, 0]), g.constInt64([kh, kw]), g.constInt64([2, 3])]);
  return g.setDims(g.op('Transpose', [cut], { perm: { ints: [1, 0, 2, 3] } }), [co, ci, kh, kw]);
}

function convTransposeAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const [x, w, b] = node.inputs as [string, string, string | undefined];
  const dy = dy0(c);
  const wd = c.dims(w);
  if (!wd || wd.length !== 4 || wd.some((d) => d < 0)) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: ConvTranspose ${node.name} needs a static 4-D weight`);
  const [ci, co, kh, kw] = wd as [number, number, number, number];
  if (attrInt(node, 'group', 1) !== 1 || attrInts(node, 'dilations', [1, 1]).some((d) => d !== 1)) {
    throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: ConvTranspose ${node.name} with groups or dilation`);
  }
  const strides = attrInts(node, 'strides', [1, 1]);
  const pads = attrInts(node, 'pads', [0, 0, 0, 0]);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (c.need[0]) out[0] = g.op('Conv', [dy, w], { kernel_shape: { ints: [kh, kw] }, strides: { ints: strides }, pads: { ints: pads } });
  if (c.need[1]) {
    // dW[i,o,a,b] = Σ X[n,i,y,x]·dY[n,o,y·s+a−p, x·s+b−p]: conv of dY (batch↔channel) with X (batch↔channel) as kernel, dilation s.
    const dys = g.op('Transpose', [dy], { perm: { ints: [1, 0, 2, 3] } });
    const xs = g.op('Transpose', [x], { perm: { ints: [1, 0, 2, 3] } });
    const full = g.op('Conv', [dys, xs], { dilations: { ints: strides }, pads: { ints: pads } });
    const cut = g.op('Slice', [full, g.constInt64([0, 0]), g.constInt64([kh, kw]), g.constInt64([2, 3])]);
    out[1] = g.setDims(g.op('Transpose', [cut], { perm: { ints: [1, 0, 2, 3] } }), [ci, co, kh, kw]);
  }
  if (b !== undefined && c.need[2]) out[2] = g.op('ReduceSum', [dy, g.constInt64([0, 2, 3])], { keepdims: { i: 0 } });
  return out;
}

// ---- normalisation -------------------------------------------------------------------------------

function batchNormAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  if (c.need.slice(1).some(Boolean)) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: BatchNormalization ${node.name} buffers are frozen (not differentiable)`);
  const [, scale, , , variance] = node.inputs as [string, string, string, string, string];
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const factor = g.op('Div', [scale, g.op('Sqrt', [g.op('Add', [variance, g.constFloat([eps], [])])])]);
  const f = g.op('Reshape', [factor, g.constInt64([-1, 1, 1])]);
  return [g.op('Mul', [dy0(c), f])];
}

function instanceNormAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const [x, scale] = node.inputs as [string, string, string];
  const xd = c.dims(x);
  if (!xd) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: InstanceNormalization ${node.name} needs the rank of its input (record dims)`);
  const rank = xd.length;
  const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const dy = dy0(c);
  const mean = (v: string) => g.op('ReduceMean', [v], { axes: { ints: axes }, keepdims: { i: 1 } });
  const xc = g.op('Sub', [x, mean(x)]);
  const variance = mean(g.op('Mul', [xc, xc]));
  const rstd = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.constFloat([eps], [])])])]);
  const xhat = g.op('Mul', [xc, rstd]);
  const perChannel = g.constInt64([-1, ...axes.map(() => 1)]);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (c.need[0]) {
    const gs = isAllOnes(g, scale) ? dy : g.op('Mul', [dy, g.op('Reshape', [scale, perChannel])]);
    const inner = g.op('Sub', [g.op('Sub', [gs, mean(gs)]), g.op('Mul', [xhat, mean(g.op('Mul', [gs, xhat]))])]);
    out[0] = g.op('Mul', [rstd, inner]);
  }
  const sumAxes = g.constInt64([0, ...axes]);
  if (c.need[1]) out[1] = g.op('ReduceSum', [g.op('Mul', [dy, xhat]), sumAxes], { keepdims: { i: 0 } });
  if (c.need[2]) out[2] = g.op('ReduceSum', [dy, sumAxes], { keepdims: { i: 0 } });
  return out;
}

function isAllOnes(g: GraphBuilder, name: string): boolean {
  const init = g.initializers.get(name);
  return !!init && init.type === 'float32' && (init.data as Float32Array).every((v) => v === 1);
}

// ---- pooling, resizing, rearranging ----------------------------------------------------------------

function maxPoolAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const x = node.inputs[0]!;
  // Recompute with indices (flat into the unpadded NCHW input), then scatter-add dY there.
  const [, indices] = g.node('MaxPool', [x], node.attrs, [g.fresh('maxpool_y'), g.fresh('maxpool_idx')]);
  const size = g.op('Reshape', [g.op('Size', [x]), g.constInt64([1])]);
  const zeros = g.op('ConstantOfShape', [size]);
  const flat = (v: string) => g.op('Reshape', [v, g.constInt64([-1])]);
  const scattered = g.op('ScatterElements', [zeros, flat(indices!), flat(dy0(c))], { axis: { i: 0 }, reduction: { s: 'add' } });
  return [g.op('Reshape', [scattered, shapeOf(g, x)])];
}

function globalAvgPoolAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const x = node.inputs[0]!;
  const count = g.op('Cast', [g.op('ReduceProd', [shapeOf(g, x, 2)], { keepdims: { i: 0 } })], { to: { i: 1 } });
  return [g.op('Expand', [g.op('Div', [dy0(c), count]), shapeOf(g, x)])];
}

function reduceMeanAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  let dy = dy0(c);
  if (attrInt(node, 'keepdims', 1) === 0) {
    const axes = attrInts(node, 'axes', []);
    if (axes.length > 0) dy = g.op('Unsqueeze', [dy, g.constInt64([...axes])]);
  }
  const count = g.op('Cast', [g.op('Div', [g.op('Size', [x]), g.op('Size', [y])])], { to: { i: 1 } });
  return [g.op('Expand', [g.op('Div', [dy, count]), shapeOf(g, x)])];
}

function reduceSumAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const [x, axes] = node.inputs as [string, string | undefined];
  let dy = dy0(c);
  if (attrInt(node, 'keepdims', 1) === 0 && axes !== undefined && axes !== '') dy = g.op('Unsqueeze', [dy, axes]);
  return [g.op('Expand', [dy, shapeOf(g, x)])];
}

function resizeAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const [x, , scales] = node.inputs as [string, string, string | undefined, string | undefined];
  const y = node.outputs[0]!;
  const dy = dy0(c);
  const mode = attrString(node, 'mode', 'nearest');
  const ctm = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  // Nearest (floor, asymmetric) by an integer factor: each input pixel feeds an s×s block.
  const sc = scales ? g.initializers.get(scales) : undefined;
  if (mode === 'nearest' && ctm === 'asymmetric' && attrString(node, 'nearest_mode', 'round_prefer_floor') === 'floor' && sc) {
    const [, , sh, sw] = Array.from(sc.data as Float32Array);
    if (sh === sw && Number.isInteger(sh) && sh! >= 1) {
      const s = sh!;
      const avg = g.op('AveragePool', [dy], { kernel_shape: { ints: [s, s] }, strides: { ints: [s, s] } });
      return [g.op('Mul', [avg, g.constFloat([s * s], [])])];
    }
  }
  // General: Resize is separable and linear, Y = A_h·X·A_wᵀ per (n, c); A = the same Resize of an identity.
  const matrix = (axis: 2 | 3): string => {
    const nIn = shapeOf(g, x, axis, axis + 1);
    const nOut = shapeOf(g, y, axis, axis + 1);
    const eye = g.op('EyeLike', [g.op('ConstantOfShape', [g.op('Concat', [nIn, nIn], { axis: { i: 0 } })])]);
    const eye4 = g.op('Unsqueeze', [eye, g.constInt64([0, 1])]);
    const sizes = g.op('Concat', [g.constInt64([1, 1]), nOut, nIn], { axis: { i: 0 } });
    const resized = g.op('Resize', [eye4, '', '', sizes], node.attrs);
    return g.op('Squeeze', [resized, g.constInt64([0, 1])]);
  };
  const ah = matrix(2);
  const aw = matrix(3);
  const left = g.op('MatMul', [g.op('Transpose', [ah], { perm: { ints: [1, 0] } }), dy]);
  return [g.op('MatMul', [left, aw])];
}

function depthToSpaceAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const x = node.inputs[0]!;
  const r = attrInt(node, 'blocksize', 1);
  const dy = dy0(c);
  if (attrString(node, 'mode', 'DCR') === 'DCR') return [g.op('SpaceToDepth', [dy], { blocksize: { i: r } })];
  // CRD: y[n,c,h·r+i,w·r+j] = x[n, c·r²+i·r+j, h, w].
  const xd = c.dims(x);
  const cx = xd?.[1];
  if (cx === undefined || cx < 0) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: DepthToSpace CRD ${node.name} needs static channels`);
  const shape6 = g.op('Concat', [shapeOf(g, x, 0, 1), g.constInt64([cx / (r * r)]), shapeOf(g, x, 2, 3), g.constInt64([r]), shapeOf(g, x, 3, 4), g.constInt64([r])], { axis: { i: 0 } });
  const t = g.op('Transpose', [g.op('Reshape', [dy, shape6])], { perm: { ints: [0, 1, 3, 5, 2, 4] } });
  return [g.op('Reshape', [t, shapeOf(g, x)])];
}

function concatAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  const axis = attrInt(node, 'axis', 0);
  const sizes = g.op('Concat', node.inputs.map((i) => shapeOf(g, i, axis, axis + 1)), { axis: { i: 0 } });
  return g.node('Split', [dy0(c), sizes], { axis: { i: axis } }, node.inputs.map(() => g.fresh('split')));
}

function transposeAdjoint(c: AdjointContext): (string | undefined)[] {
  const perm = attrInts(c.node, 'perm', []);
  if (perm.length === 0) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: Transpose ${c.node.name} without perm`);
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return [c.g.op('Transpose', [dy0(c)], { perm: { ints: inv } })];
}

const reshapeBack: Adjoint = (c) => [c.g.op('Reshape', [dy0(c), shapeOf(c.g, c.node.inputs[0]!)])];

function gemmAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  if (attrInt(node, 'transA', 0) || attrInt(node, 'transB', 0) || attrFloat(node, 'alpha', 1) !== 1 || attrFloat(node, 'beta', 1) !== 1) {
    throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: Gemm ${node.name} with transA/transB/alpha/beta`);
  }
  const [a, b, bias] = node.inputs as [string, string, string | undefined];
  const dy = dy0(c);
  return [
    c.need[0] ? g.op('Gemm', [dy, b], { transB: { i: 1 } }) : undefined,
    c.need[1] ? g.op('Gemm', [a, dy], { transA: { i: 1 } }) : undefined,
    bias !== undefined && c.need[2] ? g.op('ReduceSum', [dy, g.constInt64([0])], { keepdims: { i: 0 } }) : undefined,
  ];
}

function gatherAdjoint(c: AdjointContext): (string | undefined)[] {
  const { g, node } = c;
  if (attrInt(node, 'axis', 0) !== 0) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: Gather ${node.name} on an axis other than 0`);
  const [data, indices] = node.inputs as [string, string];
  const zeros = g.op('ConstantOfShape', [shapeOf(g, data)]);
  const idx = g.op('Unsqueeze', [indices, g.constInt64([-1])]);
  return [g.op('ScatterND', [zeros, idx, dy0(c)], { reduction: { s: 'add' } }), undefined];
}

export const ADJOINTS: Record<string, Adjoint> = {
  Identity: (c) => [dy0(c)],
  Transpose: transposeAdjoint,
  Reshape: (c) => [reshapeBack(c)[0], undefined],
  Flatten: reshapeBack,
  Squeeze: (c) => [reshapeBack(c)[0], undefined],
  Unsqueeze: (c) => [reshapeBack(c)[0], undefined],
  Relu: (c) => [c.g.op('Where', [c.g.op('Greater', [c.node.inputs[0]!, zeroScalar(c.g)]), dy0(c), zeroScalar(c.g)])],
  Sigmoid: (c) => {
    const y = c.node.outputs[0]!;
    return [c.g.op('Mul', [dy0(c), c.g.op('Mul', [y, c.g.op('Sub', [c.g.constFloat([1], []), y])])])];
  },
  Abs: (c) => [c.g.op('Mul', [dy0(c), c.g.op('Sign', [c.node.inputs[0]!])])],
  Neg: (c) => [c.g.op('Neg', [dy0(c)])],
  Exp: (c) => [c.g.op('Mul', [dy0(c), c.node.outputs[0]!])],
  Log: (c) => [c.g.op('Div', [dy0(c), c.node.inputs[0]!])],
  Sqrt: (c) => [c.g.op('Div', [dy0(c), c.g.op('Mul', [c.g.constFloat([2], []), c.node.outputs[0]!])])],
  Add: (c) => [binaryGrad(c, 0, () => dy0(c)), binaryGrad(c, 1, () => dy0(c))],
  Sub: (c) => [binaryGrad(c, 0, () => dy0(c)), binaryGrad(c, 1, () => c.g.op('Neg', [dy0(c)]))],
  Mul: (c) => [binaryGrad(c, 0, () => c.g.op('Mul', [dy0(c), c.node.inputs[1]!])), binaryGrad(c, 1, () => c.g.op('Mul', [dy0(c), c.node.inputs[0]!]))],
  Div: (c) => [
    binaryGrad(c, 0, () => c.g.op('Div', [dy0(c), c.node.inputs[1]!])),
    binaryGrad(c, 1, () => c.g.op('Neg', [c.g.op('Div', [c.g.op('Mul', [dy0(c), c.node.outputs[0]!]), c.node.inputs[1]!])])),
  ],
  Where: (c) => {
    const [cond] = c.node.inputs as [string];
    return [undefined, binaryGrad(c, 1, () => c.g.op('Where', [cond, dy0(c), zeroScalar(c.g)])), binaryGrad(c, 2, () => c.g.op('Where', [cond, zeroScalar(c.g), dy0(c)]))];
  },
  Conv: convAdjoint,
  ConvTranspose: convTransposeAdjoint,
  Gemm: gemmAdjoint,
  MatMul: (c) => {
    const [a, b] = c.node.inputs as [string, string];
    const tr = (v: string) => c.g.op('Transpose', [v], { perm: { ints: [1, 0] } });
    if ((c.dims(a)?.length ?? 2) !== 2 || (c.dims(b)?.length ?? 2) !== 2) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: MatMul ${c.node.name} beyond 2-D`);
    return [c.need[0] ? c.g.op('MatMul', [dy0(c), tr(b)]) : undefined, c.need[1] ? c.g.op('MatMul', [tr(a), dy0(c)]) : undefined];
  },
  BatchNormalization: batchNormAdjoint,
  InstanceNormalization: instanceNormAdjoint,
  MaxPool: maxPoolAdjoint,
  GlobalAveragePool: globalAvgPoolAdjoint,
  ReduceMean: reduceMeanAdjoint,
  ReduceSum: (c) => [reduceSumAdjoint(c)[0], undefined],
  Resize: (c) => [resizeAdjoint(c)[0], undefined, undefined, undefined],
  DepthToSpace: depthToSpaceAdjoint,
  Softmax: (c) => {
    const axis = attrInt(c.node, 'axis', -1);
    const y = c.node.outputs[0]!;
    const dy = dy0(c);
    const s = c.g.op('ReduceSum', [c.g.op('Mul', [dy, y]), c.g.constInt64([axis])], { keepdims: { i: 1 } });
    return [c.g.op('Mul', [y, c.g.op('Sub', [dy, s])])];
  },
  LogSoftmax: (c) => {
    const axis = attrInt(c.node, 'axis', -1);
    const y = c.node.outputs[0]!;
    const dy = dy0(c);
    const s = c.g.op('ReduceSum', [dy, c.g.constInt64([axis])], { keepdims: { i: 1 } });
    return [c.g.op('Sub', [dy, c.g.op('Mul', [c.g.op('Exp', [y]), s])])];
  },
  Concat: concatAdjoint,
  Gather: gatherAdjoint,
};
