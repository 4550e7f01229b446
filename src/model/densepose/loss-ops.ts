import * as tf from '@tensorflow/tfjs-core';

/**
 * The few tensor ops the dense DensePose loss terms are written against (NHWC, channel axis last), so
 * any engine can emit them: tfjs here; in ONNX each is one or two standard nodes (Constant, Gather
 * axis 0, LogSoftmax axis −1, Mul, Sub, ReduceSum, and Abs/Less/Where for smooth-L1). Everything
 * data-dependent (which cell has which label and weight) is computed on the host as constants.
 */
export interface LossOps<T> {
  /** A constant float32 tensor. */
  constant(values: Float32Array, shape: number[]): T;
  /** Rows `rows` of axis 0 (RoIs). */
  gatherRows(x: T, rows: Int32Array): T;
  logSoftmaxChannels(x: T): T;
  mul(a: T, b: T): T;
  sub(a: T, b: T): T;
  /** Sum over the last axis: `[..., C]` → `[...]`. */
  sumChannels(x: T): T;
  /** Elementwise smooth-L1 with β = 1: ½d² where |d| < 1, else |d| − ½. */
  smoothL1(x: T): T;
  /** Sum of every element → scalar. */
  sumAll(x: T): T;
}

/** {@link LossOps} on tfjs tensors (differentiable by `tf.grads`). */
export const tfLossOps: LossOps<tf.Tensor> = {
  constant: (values, shape) => tf.tensor(values, shape, 'float32'),
  gatherRows: (x, rows) => tf.gather(x, tf.tensor1d(rows, 'int32')),
  logSoftmaxChannels: (x) => tf.logSoftmax(x),
  mul: (a, b) => tf.mul(a, b),
  sub: (a, b) => tf.sub(a, b),
  sumChannels: (x) => tf.sum(x, -1),
  smoothL1: (d) => {
    const a = tf.abs(d);
    return tf.where(tf.less(a, 1), tf.mul(0.5, tf.square(d)), tf.sub(a, 0.5));
  },
  sumAll: (x) => tf.sum(x),
};
