import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../../errors.ts';

/**
 * Resizes with PyTorch semantics and gradients that are right on every backend. The wasm (and cpu)
 * `ResizeBilinearGrad` kernels ignore `halfPixelCenters`, so their gradient is wrong for PyTorch's
 * default `align_corners=False`; here the backward pass is computed from the interpolation weights.
 */

/** Source coordinate and the two taps with their weights for one output index along one axis. */
function taps(dst: number, inS: number, outS: number, alignCorners: boolean): [number, number, number] {
  const src = alignCorners ? (outS > 1 ? (dst * (inS - 1)) / (outS - 1) : 0) : Math.max(0, ((dst + 0.5) * inS) / outS - 0.5);
  const i0 = Math.min(Math.floor(src), inS - 1);
  const i1 = Math.min(i0 + 1, inS - 1);
  return [i0, i1, src - i0];
}

/** Interpolation matrix `[outS,inS]` of one axis (each row has ≤ 2 non-zeros). */
function axisMatrix(inS: number, outS: number, alignCorners: boolean): Float32Array {
  const a = new Float32Array(outS * inS);
  for (let o = 0; o < outS; o++) {
    const [i0, i1, l] = taps(o, inS, outS, alignCorners);
    a[o * inS + i0]! += 1 - l;
    a[o * inS + i1]! += l;
  }
  return a;
}

/**
 * Transpose of the 1-D interpolation along `axis` (1 = H, 2 = W) of `dy [N,H',W',C]`, for an integer
 * up-scale with half-pixel centres: output `s·i + r` reads input `i` and one neighbour with weights
 * that depend on the phase `r` only, so the adjoint is a few shifted, weighted sums (fast kernels).
 */
function halfPixelUpAdjoint(dy: tf.Tensor4D, axis: 1 | 2, inS: number, s: number): tf.Tensor4D {
  const shape = dy.shape.slice() as [number, number, number, number];
  const split = axis === 1 ? [shape[0], inS, s, shape[2], shape[3]] : [shape[0], shape[1], inS, s, shape[3]];
  const phases = tf.unstack(tf.reshape(dy, split), axis + 1);
  let same: tf.Tensor | null = null;
  let toPrev: tf.Tensor | null = null; // contributions to input i−1
  let toNext: tf.Tensor | null = null; // contributions to input i+1
  const acc = (t: tf.Tensor | null, v: tf.Tensor): tf.Tensor => (t ? tf.add(t, v) : v);
  for (let r = 0; r < s; r++) {
    const f = (r + 0.5) / s - 0.5;
    const p = phases[r]!;
    if (f < 0) {
      same = acc(same, tf.mul(p, 1 + f));
      toPrev = acc(toPrev, tf.mul(p, -f));
    } else {
      same = acc(same, f === 0 ? p : tf.mul(p, 1 - f));
      if (f > 0) toNext = acc(toNext, tf.mul(p, f));
    }
  }
  let dx = same!;
  const size = (n: number): number[] => (axis === 1 ? [shape[0], n, dx.shape[2]!, shape[3]] : [shape[0], shape[1], n, shape[3]]);
  const begin = (i: number): number[] => (axis === 1 ? [0, i, 0, 0] : [0, 0, i, 0]);
  const cat = (ts: tf.Tensor[]): tf.Tensor => tf.concat(ts, axis);
  if (inS === 1) {
    for (const t of [toPrev, toNext]) if (t) dx = tf.add(dx, t);
    return dx as tf.Tensor4D;
  }
  // Input i−1 of output row 0 is clamped to 0 (PyTorch clamps the source coordinate), likewise the last.
  if (toPrev) {
    const head = tf.add(tf.slice(toPrev, begin(0), size(1)), tf.slice(toPrev, begin(1), size(1)));
    const parts = [head];
    if (inS > 2) parts.push(tf.slice(toPrev, begin(2), size(inS - 2)));
    parts.push(tf.zeros(size(1)));
    dx = tf.add(dx, cat(parts));
  }
  if (toNext) {
    const tail = tf.add(tf.slice(toNext, begin(inS - 2), size(1)), tf.slice(toNext, begin(inS - 1), size(1)));
    const parts: tf.Tensor[] = [tf.zeros(size(1))];
    if (inS > 2) parts.push(tf.slice(toNext, begin(0), size(inS - 2)));
    parts.push(tail);
    dx = tf.add(dx, cat(parts));
  }
  return dx as tf.Tensor4D;
}

/** Transpose of the interpolation along one axis by a dense `[outS,inS]` matrix (general sizes). */
function denseAdjoint(dy: tf.Tensor4D, axis: 1 | 2, inS: number, alignCorners: boolean): tf.Tensor4D {
  const [n, h, w, c] = dy.shape;
  const outS = axis === 1 ? h : w;
  const at = tf.transpose(tf.tensor2d(axisMatrix(inS, outS, alignCorners), [outS, inS])); // [inS,outS]
  if (axis === 1) return tf.reshape(tf.matMul(tf.tile(tf.expandDims(at, 0), [n, 1, 1]) as tf.Tensor3D, tf.reshape(dy, [n, h, w * c])), [n, inS, w, c]);
  return tf.reshape(tf.matMul(tf.tile(tf.expandDims(at, 0), [n * h, 1, 1]) as tf.Tensor3D, tf.reshape(dy, [n * h, w, c])), [n, h, inS, c]);
}

/**
 * Gradient of bilinear resize `[N,H,W,C]` → `[N,H',W',C]` (PyTorch `align_corners` semantics):
 * `dy [N,H',W',C]` → `dx [N,H,W,C]`.
 */
export function resizeBilinearBackward(dy: tf.Tensor4D, inH: number, inW: number, alignCorners: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [, oh, ow] = dy.shape;
    const alongW = !alignCorners && ow % inW === 0 ? halfPixelUpAdjoint(dy, 2, inW, ow / inW) : denseAdjoint(dy, 2, inW, alignCorners);
    return !alignCorners && oh % inH === 0 ? halfPixelUpAdjoint(alongW, 1, inH, oh / inH) : denseAdjoint(alongW, 1, inH, alignCorners);
  });
}

/**
 * Bilinear resize with PyTorch `F.interpolate(mode='bilinear', align_corners)` semantics on NHWC
 * `[N,H,W,C]` → `[N,size[0],size[1],C]`; forward in the backend kernel, gradient as above.
 */
export function resizeBilinear(x: tf.Tensor4D, size: [number, number], alignCorners = false): tf.Tensor4D {
  if (x.rank !== 4) throw new DensePoseError('BAD_INPUT', `resizeBilinear expects [N,H,W,C], got [${x.shape.join(',')}]`);
  const [, h, w] = x.shape;
  const f = tf.customGrad(((xi: tf.Tensor4D) => ({
    value: tf.image.resizeBilinear(xi, size, alignCorners, !alignCorners),
    gradFunc: (dy: tf.Tensor4D) => resizeBilinearBackward(dy, h, w, alignCorners),
  })) as unknown as Parameters<typeof tf.customGrad<tf.Tensor4D>>[0]);
  return f(x) as tf.Tensor4D;
}

/**
 * Nearest resize with PyTorch `mode='nearest'` semantics (`src = ⌊dst·in/out⌋`). Integer up-scales
 * (FPN ×2) get an exact block-sum gradient; other sizes use the backend's gradient kernel.
 */
export function resizeNearest(x: tf.Tensor4D, size: [number, number]): tf.Tensor4D {
  if (x.rank !== 4) throw new DensePoseError('BAD_INPUT', `resizeNearest expects [N,H,W,C], got [${x.shape.join(',')}]`);
  const [n, h, w, c] = x.shape;
  const [oh, ow] = size;
  if (oh % h !== 0 || ow % w !== 0) return tf.image.resizeNearestNeighbor(x, size, false, false);
  const sh = oh / h;
  const sw = ow / w;
  const f = tf.customGrad(((xi: tf.Tensor4D) => ({
    value: tf.image.resizeNearestNeighbor(xi, size, false, false),
    gradFunc: (dy: tf.Tensor4D) => tf.sum(tf.reshape(dy, [n, h, sh, w, sw, c]), [2, 4]),
  })) as unknown as Parameters<typeof tf.customGrad<tf.Tensor4D>>[0]);
  return f(x) as tf.Tensor4D;
}
