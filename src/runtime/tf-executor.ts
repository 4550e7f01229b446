import * as tf from '@tensorflow/tfjs-core';
import type { ConvTransposeOptions, Conv2dOptions, Executor, FrozenBatchNormParams, PoolOptions, ResizeMode, ResizeOptions } from './executor.ts';
import type { Parameter } from './parameter.ts';
import { conv2d, conv2dTranspose } from './ops/conv.ts';
import './ops/gradients.ts';
import { resizeBilinear, resizeNearest } from './ops/resize.ts';

type T = tf.Tensor;

/** Runs model definitions eagerly on tfjs (NHWC); differentiable, so it also trains them. */
export class TfExecutor implements Executor<T> {
  readonly kind = 'tfjs' as const;

  shape(x: T): number[] {
    return x.shape;
  }

  conv2d(x: T, weight: Parameter, bias: Parameter | null, options?: Conv2dOptions): T {
    const y = conv2d(x as tf.Tensor4D, weight.variable as tf.Tensor4D, options);
    return bias ? tf.add(y, bias.variable) : y;
  }

  conv2dTranspose(x: T, weight: Parameter, bias: Parameter | null, options: ConvTransposeOptions): T {
    const y = conv2dTranspose(x as tf.Tensor4D, weight.variable as tf.Tensor4D, options);
    return bias ? tf.add(y, bias.variable) : y;
  }

  linear(x: T, weight: Parameter, bias: Parameter | null): T {
    const y = tf.matMul(x as tf.Tensor2D, weight.variable as tf.Tensor2D);
    return bias ? tf.add(y, bias.variable) : y;
  }

  flatten(x: T): T {
    return tf.reshape(x, [x.shape[0]!, -1]);
  }

  relu(x: T): T {
    return tf.relu(x);
  }

  sigmoid(x: T): T {
    return tf.sigmoid(x);
  }

  add(a: T, b: T): T {
    return tf.add(a, b);
  }

  mul(a: T, b: T): T {
    return tf.mul(a, b);
  }

  concatChannels(xs: T[]): T {
    return tf.concat(xs, xs[0]!.rank - 1);
  }

  softmaxChannels(x: T): T {
    return tf.softmax(x);
  }

  frozenBatchNorm(x: T, bn: FrozenBatchNormParams): T {
    const scale = tf.mul(bn.weight.variable, tf.rsqrt(tf.add(bn.runningVar.variable, bn.eps ?? 1e-5)));
    const shift = tf.sub(bn.bias.variable, tf.mul(bn.runningMean.variable, scale));
    return tf.add(tf.mul(x, scale), shift);
  }

  groupNorm(x: T, groups: number, gamma: Parameter, beta: Parameter, eps = 1e-5): T {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const g = tf.reshape(x, [n, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    const normed = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, eps))), [n, h, w, c]);
    return tf.add(tf.mul(normed, gamma.variable), beta.variable);
  }

  maxPool(x: T, options: PoolOptions): T {
    const p = options.padding ?? 0;
    const padded = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], -Infinity) : x;
    return tf.maxPool(padded as tf.Tensor4D, options.kernel, options.stride, 'valid');
  }

  globalAvgPool(x: T): T {
    return tf.mean(x, [1, 2], true);
  }

  resize(x: T, options: ResizeOptions): T {
    const [, h, w] = x.shape as [number, number, number, number];
    const size: [number, number] = options.size ?? [h * (options.scale ?? 1), w * (options.scale ?? 1)];
    return resizeTo(x as tf.Tensor4D, size, options.mode, options.alignCorners ?? false);
  }

  resizeLike(x: T, like: T, mode: ResizeMode): T {
    return resizeTo(x as tf.Tensor4D, [like.shape[1]!, like.shape[2]!], mode, false);
  }

  depthToSpace(x: T, blockSize: number, mode: 'DCR' | 'CRD' = 'DCR'): T {
    if (mode === 'DCR') return tf.depthToSpace(x as tf.Tensor4D, blockSize, 'NHWC');
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const r = blockSize;
    const co = c / (r * r);
    const t = tf.reshape(x, [n, h, w, co, r, r]);
    return tf.reshape(tf.transpose(t, [0, 1, 4, 2, 5, 3]), [n, h * r, w * r, co]);
  }
}

function resizeTo(x: tf.Tensor4D, size: [number, number], mode: ResizeMode, alignCorners: boolean): tf.Tensor4D {
  return mode === 'nearest' ? resizeNearest(x, size) : resizeBilinear(x, size, alignCorners);
}
