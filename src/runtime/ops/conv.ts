import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dOptions, ConvTransposeOptions } from '../executor.ts';

/**
 * Convolution with PyTorch semantics, x `[N,H,W,Cin]`, w `[kh,kw,Cin/groups,Cout]` → `[N,Ho,Wo,Cout]`.
 * Forward via tfjs kernels; the fast wasm gradients (dX, dW as im2col + matMul) are attached in this module.
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, options: Conv2dOptions = {}): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const pad = options.padding ?? 0;
  const dilation = options.dilation ?? 1;
  const groups = options.groups ?? 1;
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  if (groups === 1) return tf.conv2d(x, w, stride, padding, 'NHWC', dilation);
  const xs = tf.split(x, groups, 3);
  const ws = tf.split(w, groups, 3);
  return tf.concat(xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, ws[g] as tf.Tensor4D, stride, padding, 'NHWC', dilation)), 3);
}

/** PyTorch ConvTranspose2d: out = (H−1)·s − 2p + k + outputPadding; w `[kh,kw,Cout,Cin]`. */
export function conv2dTranspose(x: tf.Tensor4D, w: tf.Tensor4D, options: ConvTransposeOptions): tf.Tensor4D {
  const [n, h, wd] = x.shape;
  const [kh, kw, cout] = w.shape;
  const s = options.stride;
  const p = options.padding ?? 0;
  const op = options.outputPadding ?? 0;
  const fullH = (h - 1) * s + kh;
  const fullW = (wd - 1) * s + kw;
  const full = tf.conv2dTranspose(x, w, [n, fullH, fullW, cout], s, 'valid');
  const outH = fullH - 2 * p + op;
  const outW = fullW - 2 * p + op;
  if (p === 0 && op === 0) return full;
  const padded = op > 0 ? tf.pad(full, [[0, 0], [0, op], [0, op], [0, 0]]) : full;
  return tf.slice(padded, [0, p, p, 0], [n, outH, outW, cout]);
}
