import * as tf from '@tensorflow/tfjs-core';
import { resizeBilinearBackward } from './resize.ts';

/**
 * Gradient registrations for the tfjs kernels our models and losses run through.
 *
 * Why this exists: `@tensorflow/tfjs-core`'s Node entry (`tf-core.node.js`) registers no gradients at
 * all (the `@tensorflow/tfjs` union package does that from ESM sources that Node cannot load from
 * tfjs-core's `dist/`), so without this file `tf.grad` fails with "gradient function not found for Sum".
 * Written from the ops' definitions; each is checked against finite differences in gradients.test.ts.
 * Where a backend kernel's gradient is wrong for our semantics (ResizeBilinearGrad ignores
 * half-pixel centres) the registration computes it from the interpolation weights instead.
 */

type G = tf.Tensor;
type Attrs = Record<string, unknown>;

/** Sum a broadcast gradient back to the input's shape. */
function unbroadcast(dy: G, shape: number[]): G {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  const r = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(r, shape);
}

function reducedShape(x: G, axis: unknown): { keep: number[]; count: number } {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const count = axes.reduce((a, i) => a * x.shape[i]!, 1);
  return { keep, count };
}

function runKernel(name: string, inputs: Record<string, G>, attrs: Attrs): G {
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as G;
}

/** Last-two-dims transpose of a rank ≥ 2 tensor (explicit: wasm's transposed matMul paths are slow). */
function tr(t: G): G {
  const perm = t.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1]!, perm[n - 2]!];
  return tf.transpose(t, perm);
}

interface Reg {
  kernelName: string;
  inputsToSave?: string[];
  outputsToSave?: boolean[];
  saveAllInputs?: boolean;
  gradFunc: (dy: G | G[], saved: G[], attrs: Attrs) => Record<string, () => G> | (() => G)[];
}

const d1 = (dy: G | G[]): G => dy as G;
const zeros = (x: G) => () => tf.zerosLike(x);

const unary = (name: string, f: (dy: G, x: G) => G): Reg => ({ kernelName: name, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => f(d1(dy), x!) }) });
const unaryOut = (name: string, f: (dy: G, y: G) => G): Reg => ({ kernelName: name, outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => f(d1(dy), y!) }) });
const zeroGrad = (name: string): Reg => ({ kernelName: name, inputsToSave: ['x'], gradFunc: (_dy, [x]) => ({ x: zeros(x!) }) });
const binary = (name: string, fa: (dy: G, a: G, b: G) => G, fb: (dy: G, a: G, b: G) => G): Reg => ({
  kernelName: name,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(fa(d1(dy), a!, b!), a!.shape), b: () => unbroadcast(fb(d1(dy), a!, b!), b!.shape) }),
});

const REGISTRATIONS: Reg[] = [
  // Element-wise unary.
  { kernelName: 'Identity', gradFunc: (dy) => ({ x: () => d1(dy) }) },
  unary('Cast', (dy) => dy),
  unary('Relu', (dy, x) => tf.mul(dy, tf.step(x))),
  unary('Relu6', (dy, x) => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(x, 0), tf.lessEqual(x, 6)), 'float32'))),
  { kernelName: 'LeakyRelu', inputsToSave: ['x'], gradFunc: (dy, [x], attrs) => ({ x: () => tf.where(tf.greater(x!, 0), d1(dy), tf.mul(d1(dy), attrs.alpha as number)) }) },
  unaryOut('Sigmoid', (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y)))),
  unaryOut('Tanh', (dy, y) => tf.mul(dy, tf.sub(1, tf.square(y)))),
  unary('Softplus', (dy, x) => tf.mul(dy, tf.sigmoid(x))),
  unaryOut('Exp', (dy, y) => tf.mul(dy, y)),
  unary('Log', (dy, x) => tf.div(dy, x)),
  unary('Log1p', (dy, x) => tf.div(dy, tf.add(x, 1))),
  unaryOut('Sqrt', (dy, y) => tf.div(dy, tf.mul(y, 2))),
  unaryOut('Rsqrt', (dy, y) => tf.mul(dy, tf.mul(tf.pow(y, 3), -0.5))),
  unary('Neg', (dy) => tf.neg(dy)),
  unary('Abs', (dy, x) => tf.mul(dy, tf.sign(x))),
  unary('Square', (dy, x) => tf.mul(dy, tf.mul(x, 2))),
  unary('Reciprocal', (dy, x) => tf.neg(tf.div(dy, tf.square(x)))),
  { kernelName: 'ClipByValue', inputsToSave: ['x'], gradFunc: (dy, [x], a) => ({ x: () => tf.where(tf.logicalAnd(tf.greaterEqual(x!, a.clipValueMin as number), tf.lessEqual(x!, a.clipValueMax as number)), d1(dy), tf.zerosLike(d1(dy))) }) },
  ...['Step', 'Floor', 'Ceil', 'Round', 'Sign', 'ZerosLike', 'OnesLike'].map(zeroGrad),
  // Element-wise binary with broadcasting.
  binary('Add', (dy) => dy, (dy) => dy),
  binary('Sub', (dy) => dy, (dy) => tf.neg(dy)),
  binary('Multiply', (dy, _a, b) => tf.mul(dy, b), (dy, a) => tf.mul(dy, a)),
  binary('RealDiv', (dy, _a, b) => tf.div(dy, b), (dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b)))),
  binary('Maximum', (dy, a, b) => tf.mul(dy, tf.cast(tf.greaterEqual(a, b), 'float32')), (dy, a, b) => tf.mul(dy, tf.cast(tf.less(a, b), 'float32'))),
  binary('Minimum', (dy, a, b) => tf.mul(dy, tf.cast(tf.lessEqual(a, b), 'float32')), (dy, a, b) => tf.mul(dy, tf.cast(tf.greater(a, b), 'float32'))),
  binary('SquaredDifference', (dy, a, b) => tf.mul(dy, tf.mul(tf.sub(a, b), 2)), (dy, a, b) => tf.mul(dy, tf.mul(tf.sub(b, a), 2))),
  binary(
    'Pow',
    (dy, a, b) => tf.mul(dy, tf.mul(b, tf.pow(a, tf.sub(b, 1)))),
    (dy, a, b) => tf.mul(dy, tf.where(tf.greater(a, 0), tf.mul(tf.pow(a, b), tf.log(tf.maximum(a, 1e-30))), tf.zerosLike(a))),
  ),
  { kernelName: 'AddN', saveAllInputs: true, gradFunc: (dy, saved) => saved.map(() => () => d1(dy)) },
  {
    kernelName: 'Select',
    inputsToSave: ['condition'],
    gradFunc: (dy, [c]) => ({
      condition: () => tf.zeros(c!.shape),
      t: () => tf.where(c!, d1(dy), tf.zerosLike(d1(dy))),
      e: () => tf.where(c!, tf.zerosLike(d1(dy)), d1(dy)),
    }),
  },
  // Reductions.
  { kernelName: 'Sum', inputsToSave: ['x'], gradFunc: (dy, [x], a) => ({ x: () => tf.mul(tf.reshape(d1(dy), reducedShape(x!, a.axis).keep), tf.onesLike(x!)) }) },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], a) => {
      const { keep, count } = reducedShape(x!, a.axis);
      return { x: () => tf.mul(tf.reshape(tf.div(d1(dy), count), keep), tf.onesLike(x!)) };
    },
  },
  ...(['Max', 'Min'] as const).map(
    (name): Reg => ({
      kernelName: name,
      inputsToSave: ['x'],
      outputsToSave: [true],
      gradFunc: (dy, [x, y], a) => {
        const { keep } = reducedShape(x!, a.reductionIndices ?? a.axis);
        return { x: () => tf.mul(tf.reshape(d1(dy), keep), tf.cast(tf.equal(x!, tf.reshape(y!, keep)), 'float32')) };
      },
    }),
  ),
  {
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy, [y], a) => {
      const dim = a.dim as number;
      return { logits: () => tf.mul(y!, tf.sub(d1(dy), tf.sum(tf.mul(d1(dy), y!), dim, true))) };
    },
  },
  {
    kernelName: 'Cumsum',
    gradFunc: (dy, _s, a) => ({ x: () => tf.cumsum(d1(dy), a.axis as number, a.exclusive as boolean, !(a.reverse as boolean)) }),
  },
  // Shapes and copies.
  { kernelName: 'Reshape', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.reshape(d1(dy), x!.shape) }) },
  {
    kernelName: 'Transpose',
    gradFunc: (dy, _s, a) => {
      const perm = a.perm as number[];
      const inv = perm.map((_, i) => perm.indexOf(i));
      return { x: () => tf.transpose(d1(dy), inv) };
    },
  },
  {
    kernelName: 'Concat',
    saveAllInputs: true,
    gradFunc: (dy, saved, a) => {
      const axis = tf.util.parseAxisParam(a.axis as number, saved[0]!.shape)[0]!;
      const parts = tf.split(d1(dy), saved.map((t) => t.shape[axis]!), axis);
      return parts.map((t) => () => t);
    },
  },
  {
    kernelName: 'SplitV',
    inputsToSave: ['x'],
    gradFunc: (dys, [x], a) => {
      const axis = tf.util.parseAxisParam(a.axis as number, x!.shape)[0]!;
      const sizes = a.numOrSizeSplits as number | number[];
      const n = typeof sizes === 'number' ? sizes : sizes.length;
      const parts = (dys as (G | null)[]).map((g, i) => {
        if (g) return g;
        const shape = x!.shape.slice();
        shape[axis] = typeof sizes === 'number' ? x!.shape[axis]! / n : sizes[i]!;
        return tf.zeros(shape);
      });
      return { x: () => tf.concat(parts, axis) };
    },
  },
  {
    kernelName: 'Slice',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], a) => {
      const begin = a.begin as number[];
      const g = d1(dy);
      return { x: () => tf.pad(g, x!.shape.map((d, i) => [begin[i]!, d - begin[i]! - g.shape[i]!] as [number, number])) };
    },
  },
  {
    kernelName: 'PadV2',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], a) => {
      const p = a.paddings as [number, number][];
      return { x: () => tf.slice(d1(dy), p.map((q) => q[0]), x!.shape) };
    },
  },
  { kernelName: 'Pack', gradFunc: (dy, _s, a) => tf.unstack(d1(dy), a.axis as number).map((t) => () => t) },
  {
    kernelName: 'Unpack',
    inputsToSave: ['value'],
    gradFunc: (dys, [v], a) => {
      const axis = a.axis as number;
      const shape = v!.shape.filter((_, i) => i !== axis);
      return { value: () => tf.stack((dys as (G | null)[]).map((g) => g ?? tf.zeros(shape)), axis) };
    },
  },
  {
    kernelName: 'Tile',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], a) => {
      const reps = a.reps as number[];
      const split = x!.shape.flatMap((d, i) => [reps[i]!, d]);
      const axes = x!.shape.map((_, i) => 2 * i);
      return { x: () => tf.sum(tf.reshape(d1(dy), split), axes) };
    },
  },
  { kernelName: 'Reverse', gradFunc: (dy, _s, a) => ({ x: () => tf.reverse(d1(dy), a.dims as number[]) }) },
  {
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, [x, idx], a) => {
      // UnsortedSegmentSum (tfjs's route) has no wasm kernel, and a one-hot matMul is O(K·D): a loss
      // that samples a few thousand points of a 10⁶-element map would build a 10⁹-element one-hot.
      // Scatter-add on the host instead: one pass over dy (not differentiable twice, which we never need).
      const axis = tf.util.parseAxisParam(a.axis as number, x!.shape)[0]!;
      const outer = x!.shape.slice(0, axis).reduce((p, d) => p * d, 1);
      const inner = x!.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
      const dim = x!.shape[axis]!;
      return {
        x: () => {
          const g = d1(dy).dataSync() as Float32Array;
          const ids = idx!.dataSync();
          const k = ids.length;
          const out = new Float32Array(outer * dim * inner);
          for (let o = 0; o < outer; o++) {
            for (let j = 0; j < k; j++) {
              const src = (o * k + j) * inner;
              const dst = (o * dim + ids[j]!) * inner;
              for (let c = 0; c < inner; c++) out[dst + c]! += g[src + c]!;
            }
          }
          return tf.tensor(out, x!.shape);
        },
        indices: () => tf.zeros(idx!.shape),
      };
    },
  },
  {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], at) => {
      const g = d1(dy);
      const ta = at.transposeA as boolean;
      const tb = at.transposeB as boolean;
      const da = !ta ? (!tb ? () => tf.matMul(g, tr(b!)) : () => tf.matMul(g, b!)) : !tb ? () => tf.matMul(b!, tr(g)) : () => tf.matMul(tr(b!), tr(g));
      const db = !ta ? (!tb ? () => tf.matMul(tr(a!), g) : () => tf.matMul(tr(g), a!)) : !tb ? () => tf.matMul(a!, g) : () => tf.matMul(tr(g), tr(a!));
      return { a: () => unbroadcast(da(), a!.shape), b: () => unbroadcast(db(), b!.shape) };
    },
  },
  // Images.
  {
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, [x, y], a) => ({ x: () => runKernel('MaxPoolGrad', { dy: d1(dy), input: x!, output: y! }, a) }),
  },
  { kernelName: 'AvgPool', inputsToSave: ['x'], gradFunc: (dy, [x], a) => ({ x: () => runKernel('AvgPoolGrad', { dy: d1(dy), input: x! }, a) }) },
  {
    kernelName: 'ResizeBilinear',
    inputsToSave: ['images'],
    gradFunc: (dy, [im], a) => ({
      images: () =>
        a.halfPixelCenters || a.alignCorners
          ? resizeBilinearBackward(d1(dy) as tf.Tensor4D, im!.shape[1]!, im!.shape[2]!, a.alignCorners as boolean)
          : runKernel('ResizeBilinearGrad', { images: im!, dy: d1(dy) }, a),
    }),
  },
  { kernelName: 'ResizeNearestNeighbor', inputsToSave: ['images'], gradFunc: (dy, [im], a) => ({ images: () => runKernel('ResizeNearestNeighborGrad', { images: im!, dy: d1(dy) }, a) }) },
  {
    kernelName: 'DepthToSpace',
    gradFunc: (dy, _s, a) => {
      const r = a.blockSize as number;
      const g = d1(dy);
      const [n, hr, wr, c] = g.shape as [number, number, number, number];
      // DCR: out[h·r+i, w·r+j, c] = in[h, w, (i·r+j)·C + c]; undo by splitting rows/cols into (h,i), (w,j).
      return { x: () => tf.reshape(tf.transpose(tf.reshape(g, [n, hr / r, r, wr / r, r, c]), [0, 1, 3, 2, 4, 5]), [n, hr / r, wr / r, r * r * c]) };
    },
  },
];

let registered = false;

/** Register every gradient above (idempotent; runs on import of the runtime). */
export function registerGradients(): void {
  if (registered) return;
  registered = true;
  for (const r of REGISTRATIONS) tf.registerGradient(r as unknown as tf.GradConfig);
}

registerGradients();
