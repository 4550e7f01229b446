import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../../errors.ts';
import type { Conv2dOptions, ConvTransposeOptions } from '../executor.ts';
import './gradients.ts';

/**
 * Convolutions with PyTorch semantics and their own gradients (`tf.customGrad`), because the wasm
 * backend has no `Conv2DBackpropFilter`, its `Conv2DBackpropInput` is ~10× slower than a forward
 * conv, and tfjs has no gradient at all for dilated convs. Formulations (all in fast wasm kernels):
 * - dX: stride-1 conv of dy (zero-inserted for stride > 1) with the flipped, in/out-transposed filter;
 * - dW: x transposed once to `[Cin,N,Hp,Wp]`, then per filter tap one strided slice + one matMul
 *   (`[Cin,M]·[M,Cout]`), avoiding matMul's transposeA path, which is ~10× slower on wasm.
 */

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** Geometry of one stride/padding/dilation conv between an input `[N,inH,inW,Cin]` and output `[N,outH,outW,Cout]`. */
interface Geom {
  kh: number;
  kw: number;
  stride: number;
  padding: number;
  dilation: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

function outSize(inSize: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((inSize + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function checkPositiveInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new DensePoseError('BAD_OPTION', `conv option "${name}" must be an integer ≥ ${min}, got ${v}`);
}

/** Insert `s−1` zero rows/cols after every row/col: `[N,H,W,C]` → `[N,H·s,W·s,C]`. */
function zeroInsert(t: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return t;
  const [n, h, w, c] = t.shape;
  const e = tf.pad(tf.reshape(t, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]);
  return tf.reshape(e, [n, h * s, w * s, c]);
}

/** Insert `d−1` zeros between filter taps so a dilated filter can run as an undilated one. */
function dilateFilter(w: tf.Tensor4D, d: number): tf.Tensor4D {
  if (d === 1) return w;
  const [kh, kw, ci, co] = w.shape;
  const z = zeroInsert(tf.reshape(w, [1, kh, kw, ci * co]), d);
  return tf.reshape(tf.slice(z, [0, 0, 0, 0], [1, (kh - 1) * d + 1, (kw - 1) * d + 1, ci * co]), [(kh - 1) * d + 1, (kw - 1) * d + 1, ci, co]);
}

/**
 * `w [kh,kw,Cin,Cout]` → rotated by 180° and in/out-swapped `[kh,kw,Cout,Cin]`. Flattening the taps
 * makes the 2-D flip one reversal of the tap axis; done by slices because wasm's Reverse/Gather
 * kernels are ~7× slower than a transpose of the same weight.
 */
function flipTranspose(w: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  const taps = tf.unstack(tf.reshape(w, [kh * kw, ci, co]));
  const flipped = taps.length === 1 ? tf.expandDims(taps[0]!, 0) : tf.stack(taps.reverse());
  return tf.reshape(tf.transpose(flipped, [0, 2, 1]), [kh, kw, co, ci]);
}

function convForward(x: tf.Tensor4D, w: tf.Tensor4D, g: Geom): tf.Tensor4D {
  const p = g.padding;
  const pad: Pad4 = [[0, 0], [p, p], [p, p], [0, 0]];
  if (g.kh === 1 && g.kw === 1 && p === 0) {
    // 1×1: a plain matMul (on a strided sub-sampling for stride > 1) is faster than the conv kernel.
    const xs = g.stride === 1 ? x : tf.stridedSlice(x, [0, 0, 0, 0], [x.shape[0], (g.outH - 1) * g.stride + 1, (g.outW - 1) * g.stride + 1, x.shape[3]], [1, g.stride, g.stride, 1]);
    const y = tf.matMul(tf.reshape(xs, [-1, w.shape[2]]), tf.reshape(w, [w.shape[2], w.shape[3]]));
    return tf.reshape(y, [x.shape[0], g.outH, g.outW, w.shape[3]]);
  }
  // tfjs refuses stride > 1 together with dilation > 1: dilate the (small) filter instead.
  if (g.stride > 1 && g.dilation > 1) return tf.conv2d(x, dilateFilter(w, g.dilation), g.stride, pad, 'NHWC', 1);
  return tf.conv2d(x, w, g.stride, pad, 'NHWC', g.dilation);
}

/** Gradient w.r.t. the input: `dy [N,outH,outW,Cout]`, `w [kh,kw,Cin,Cout]` → `[N,inH,inW,Cin]`. */
function convDx(dy: tf.Tensor4D, w: tf.Tensor4D, g: Geom): tf.Tensor4D {
  const [n] = dy.shape;
  const cin = w.shape[2];
  const cout = w.shape[3];
  if (g.kh === 1 && g.kw === 1 && g.padding === 0) {
    const dxs = tf.reshape(tf.matMul(tf.reshape(dy, [-1, cout]), tf.transpose(tf.reshape(w, [cin, cout]))), [n, g.outH, g.outW, cin]) as tf.Tensor4D;
    // outH = ⌈inH/s⌉, so the zero-inserted map covers the input; rows the strided 1×1 conv never read get zeros.
    return g.stride === 1 ? dxs : tf.slice(zeroInsert(dxs, g.stride), [0, 0, 0, 0], [n, g.inH, g.inW, cin]);
  }
  const wf = flipTranspose(w);
  const z = zeroInsert(dy, g.stride);
  const [, zh, zw] = z.shape;
  const ekh = g.dilation * (g.kh - 1);
  const ekw = g.dilation * (g.kw - 1);
  const top = ekh - g.padding;
  const left = ekw - g.padding;
  const bottom = g.inH + ekh - zh - top;
  const right = g.inW + ekw - zw - left;
  const pad: Pad4 = [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]];
  const full = tf.conv2d(z, wf, 1, pad, 'NHWC', g.dilation);
  if (top >= 0 && left >= 0 && bottom >= 0 && right >= 0) return full;
  return tf.slice(full, [0, Math.max(-top, 0), Math.max(-left, 0), 0], [n, g.inH, g.inW, cin]);
}

/** Gradient w.r.t. the filter: `x [N,inH,inW,Cin]`, `dy [N,outH,outW,Cout]` → `[kh,kw,Cin,Cout]`. */
function convDw(x: tf.Tensor4D, dy: tf.Tensor4D, g: Geom): tf.Tensor4D {
  const [n, , , cin] = x.shape;
  const cout = dy.shape[3];
  const m = n * g.outH * g.outW;
  const dy2 = tf.reshape(dy, [m, cout]);
  const p = g.padding;
  const xp = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x;
  const s = g.stride;
  // Layout [phase·Cin, N, Hp/s, Wp/s] (phase = row%s·s + col%s): every tap, strided or not, is then one
  // contiguous 4-D slice `[Cin,M]` and feeds a plain matMul (no transposed matMul, no StridedSlice,
  // both of which are slow on wasm).
  const hs = s * Math.max(Math.ceil(xp.shape[1] / s), Math.floor((g.dilation * (g.kh - 1)) / s) + g.outH);
  const ws = s * Math.max(Math.ceil(xp.shape[2] / s), Math.floor((g.dilation * (g.kw - 1)) / s) + g.outW);
  const xq = hs > xp.shape[1] || ws > xp.shape[2] ? tf.pad(xp, [[0, 0], [0, hs - xp.shape[1]], [0, ws - xp.shape[2]], [0, 0]]) : xp;
  const xt =
    s === 1
      ? (tf.transpose(xq, [3, 0, 1, 2]) as tf.Tensor4D)
      : (tf.reshape(tf.transpose(tf.reshape(xq, [n, hs / s, s, ws / s, s, cin]), [2, 4, 5, 0, 1, 3]), [s * s * cin, n, hs / s, ws / s]) as tf.Tensor4D);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      const r0 = i * g.dilation;
      const c0 = j * g.dilation;
      const phase = (r0 % s) * s + (c0 % s);
      const tap = tf.slice(xt, [phase * cin, 0, Math.floor(r0 / s), Math.floor(c0 / s)], [cin, n, g.outH, g.outW]);
      taps.push(tf.matMul(tf.reshape(tap, [cin, m]), dy2));
    }
  }
  return tf.reshape(taps.length === 1 ? taps[0]! : tf.stack(taps), [g.kh, g.kw, cin, cout]);
}

function geometry(inH: number, inW: number, kh: number, kw: number, stride: number, padding: number, dilation: number): Geom {
  return { kh, kw, stride, padding, dilation, inH, inW, outH: outSize(inH, kh, stride, padding, dilation), outW: outSize(inW, kw, stride, padding, dilation) };
}

/** One ungrouped conv with custom gradients for both inputs. */
function conv2dSingle(x: tf.Tensor4D, w: tf.Tensor4D, g: Geom): tf.Tensor4D {
  const f = tf.customGrad(((xi: tf.Tensor4D, wi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([xi, wi]);
    return {
      value: convForward(xi, wi, g),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [convDx(dy as tf.Tensor4D, ws, g), convDw(xs, dy as tf.Tensor4D, g)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor4D>>[0]);
  return f(x, w) as tf.Tensor4D;
}

/**
 * Convolution with PyTorch semantics, x `[N,H,W,Cin]`, w `[kh,kw,Cin/groups,Cout]` → `[N,Ho,Wo,Cout]`,
 * `Ho = ⌊(H + 2p − d(kh−1) − 1)/s⌋ + 1`. Differentiable w.r.t. x and w on every backend (wasm included).
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, options: Conv2dOptions = {}): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  const dilation = options.dilation ?? 1;
  const groups = options.groups ?? 1;
  checkPositiveInt('stride', stride, 1);
  checkPositiveInt('padding', padding, 0);
  checkPositiveInt('dilation', dilation, 1);
  checkPositiveInt('groups', groups, 1);
  if (x.rank !== 4 || w.rank !== 4) throw new DensePoseError('BAD_INPUT', `conv2d expects x [N,H,W,C] and w [kh,kw,Cin/groups,Cout], got x [${x.shape.join(',')}] and w [${w.shape.join(',')}]`);
  const [, h, wd, cin] = x.shape;
  const [kh, kw, cpg, cout] = w.shape;
  if (cin !== cpg * groups || cout % groups !== 0) {
    throw new DensePoseError('SHAPE_MISMATCH', `conv2d: input has ${cin} channels, weight [${w.shape.join(',')}] with groups=${groups} expects ${cpg * groups} (and Cout divisible by groups)`);
  }
  const g = geometry(h, wd, kh, kw, stride, padding, dilation);
  if (g.outH < 1 || g.outW < 1) throw new DensePoseError('BAD_INPUT', `conv2d: input ${h}×${wd} is too small for kernel ${kh}×${kw} (dilation ${dilation}, padding ${padding})`);
  if (groups === 1) return conv2dSingle(x, w, g);
  return tf.tidy(() => {
    const xs = tf.split(x, groups, 3) as tf.Tensor4D[];
    const ws = tf.split(w, groups, 3) as tf.Tensor4D[];
    return tf.concat(xs.map((xi, i) => conv2dSingle(xi, ws[i]!, g)), 3);
  });
}

/**
 * PyTorch ConvTranspose2d: x `[N,H,W,Cin]`, w `[kh,kw,Cout,Cin]` → `[N,Ho,Wo,Cout]` with
 * `Ho = (H−1)·s − 2p + kh + outputPadding`. It is the input-gradient of the conv `[N,Ho,Wo,Cout]` →
 * `[N,H,W,Cin]` with the same weight read as HWIO, so forward and gradients reuse the conv pieces.
 */
export function conv2dTranspose(x: tf.Tensor4D, w: tf.Tensor4D, options: ConvTransposeOptions): tf.Tensor4D {
  const s = options.stride;
  const p = options.padding ?? 0;
  const op = options.outputPadding ?? 0;
  checkPositiveInt('stride', s, 1);
  checkPositiveInt('padding', p, 0);
  checkPositiveInt('outputPadding', op, 0);
  if (op >= s) throw new DensePoseError('BAD_OPTION', `conv2dTranspose: outputPadding (${op}) must be smaller than stride (${s})`);
  if (x.rank !== 4 || w.rank !== 4) throw new DensePoseError('BAD_INPUT', `conv2dTranspose expects x [N,H,W,Cin] and w [kh,kw,Cout,Cin], got x [${x.shape.join(',')}] and w [${w.shape.join(',')}]`);
  const [, h, wd, cin] = x.shape;
  const [kh, kw, , wcin] = w.shape;
  if (cin !== wcin) throw new DensePoseError('SHAPE_MISMATCH', `conv2dTranspose: input has ${cin} channels, weight [${w.shape.join(',')}] expects ${wcin}`);
  const outH = (h - 1) * s - 2 * p + kh + op;
  const outW = (wd - 1) * s - 2 * p + kw + op;
  if (outH < 1 || outW < 1) throw new DensePoseError('BAD_INPUT', `conv2dTranspose: padding ${p} leaves no output for input ${h}×${wd}`);
  // The conv this transposes maps [outH,outW] → [h,wd].
  const g: Geom = { kh, kw, stride: s, padding: p, dilation: 1, inH: outH, inW: outW, outH: h, outW: wd };
  const f = tf.customGrad(((xi: tf.Tensor4D, wi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([xi, wi]);
    return {
      value: convDx(xi, wi, g),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [convForward(dy as tf.Tensor4D, ws, g), convDw(dy as tf.Tensor4D, xs, g)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor4D>>[0]);
  return f(x, w) as tf.Tensor4D;
}

function optionsGeometry(inH: number, inW: number, kh: number, kw: number, options: Conv2dOptions): Geom {
  return geometry(inH, inW, kh, kw, options.stride ?? 1, options.padding ?? 0, options.dilation ?? 1);
}

/**
 * The input-gradient piece of `conv2d` on its own (ungrouped): `dy [N,Ho,Wo,Cout]`, `w [kh,kw,Cin,Cout]`
 * → `[N,inH,inW,Cin]`. Exposed for benchmarks and for ops built from convolutions.
 */
export function conv2dBackwardInput(dy: tf.Tensor4D, w: tf.Tensor4D, inSize: [number, number], options: Conv2dOptions = {}): tf.Tensor4D {
  return convDx(dy, w, optionsGeometry(inSize[0], inSize[1], w.shape[0], w.shape[1], options));
}

/** The filter-gradient piece of `conv2d` (ungrouped): `x [N,H,W,Cin]`, `dy [N,Ho,Wo,Cout]` → `[kh,kw,Cin,Cout]`. */
export function conv2dBackwardFilter(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: [number, number], options: Conv2dOptions = {}): tf.Tensor4D {
  return convDw(x, dy, optionsGeometry(x.shape[1], x.shape[2], kernel[0], kernel[1], options));
}
