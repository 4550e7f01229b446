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


/**
 * Gradient of bilinear resize `[N,H,W,C]` → `[N,H',W',C]` (PyTorch `align_corners` semantics):
 * `dy [N,H',W',C]` → `dx [N,H,W,C]`. A scatter of each output cell into its four taps, on the host:
 * one pass over dy, where graph formulations (unstack/slice/concat or dense interpolation matrices)
 * cost seconds per step on wasm for head-sized tensors.
 */
export function resizeBilinearBackward(dy: tf.Tensor4D, inH: number, inW: number, alignCorners: boolean): tf.Tensor4D {
  const [n, oh, ow, c] = dy.shape;
  const g = dy.dataSync() as Float32Array;
  const dx = new Float32Array(n * inH * inW * c);
  const ty = Array.from({ length: oh }, (_, o) => taps(o, inH, oh, alignCorners));
  const tx = Array.from({ length: ow }, (_, o) => taps(o, inW, ow, alignCorners));
  for (let b = 0; b < n; b++) {
    const src0 = b * oh * ow * c;
    const dst0 = b * inH * inW * c;
    for (let y = 0; y < oh; y++) {
      const [y0, y1, ly] = ty[y]!;
      for (let x = 0; x < ow; x++) {
        const [x0, x1, lx] = tx[x]!;
        const s = src0 + (y * ow + x) * c;
        const w00 = (1 - ly) * (1 - lx);
        const w01 = (1 - ly) * lx;
        const w10 = ly * (1 - lx);
        const w11 = ly * lx;
        const d00 = dst0 + (y0 * inW + x0) * c;
        const d01 = dst0 + (y0 * inW + x1) * c;
        const d10 = dst0 + (y1 * inW + x0) * c;
        const d11 = dst0 + (y1 * inW + x1) * c;
        for (let k = 0; k < c; k++) {
          const v = g[s + k]!;
          dx[d00 + k]! += w00 * v;
          dx[d01 + k]! += w01 * v;
          dx[d10 + k]! += w10 * v;
          dx[d11 + k]! += w11 * v;
        }
      }
    }
  }
  return tf.tensor4d(dx, [n, inH, inW, c]);
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
