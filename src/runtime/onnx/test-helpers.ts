import * as tf from '@tensorflow/tfjs-core';
import type { Executor } from '../executor.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { TfExecutor } from '../tf-executor.ts';
import { exportOnnx, type ExportOnnxOptions } from './export.ts';
import type { OnnxExecutor, OnnxValue } from './onnx-executor.ts';
import { createSession } from './session.ts';

/** A module whose parameters tests create ad hoc (random values, fixed seeds). */
export class ParamBag extends Module {
  private seed = 1;
  /** Normal(mean, std) values; `positive` takes |·| (BN variances). */
  param(name: string, shape: number[], options: { mean?: number; std?: number; positive?: boolean } = {}): Parameter {
    const t = tf.tidy(() => {
      const r = tf.randomNormal(shape, options.mean ?? 0, options.std ?? 0.5, 'float32', this.seed++);
      return options.positive ? tf.add(tf.abs(r), 0.1) : r;
    });
    return this.addParameter(name, t);
  }
}

/**
 * Give every parameter of `root` random values so that no op is an identity by accident
 * (FrozenBN buffers default to weight 1, mean 0, var 1): `running_var` positive, norm `weight` near 1,
 * others Normal(0, std) with std scaled by fan-in so deep stacks stay O(1).
 */
export function randomizeParameters(root: Module, seed = 1): void {
  let k = seed;
  for (const [name, p] of root.namedParameters()) {
    const shape = p.shape;
    tf.tidy(() => {
      const r = tf.randomNormal(shape, 0, 1, 'float32', k++);
      const fanIn = shape.length === 4 ? shape[0]! * shape[1]! * shape[2]! : shape.length === 2 ? shape[0]! : 1;
      let v: tf.Tensor;
      if (name.endsWith('running_var')) v = tf.add(tf.abs(r), 0.5);
      else if (shape.length === 1 && /norm|bn/.test(name) && name.endsWith('weight')) v = tf.add(tf.mul(r, 0.2), 1);
      else v = tf.mul(r, shape.length === 1 ? 0.2 : Math.sqrt(1 / fanIn));
      p.assign(v);
    });
  }
}

/** Any model function written once against the Executor contract. */
export type Forward = <T>(ex: Executor<T>, xs: T[]) => T[];

export interface CompareResult {
  /** max |onnx − tfjs| / max |tfjs| per output. */
  relErrors: number[];
  tfShapes: number[][];
  onnxShapes: number[][];
}

/** Random NHWC input data (seeded). */
export function randomInput(shape: readonly number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([...shape], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

/**
 * Run `forward` eagerly on tfjs and, exported through `exportOnnx`, on ONNX Runtime with the same
 * NHWC inputs; return each output's relative max error. `exportShapes` may have -1 (dynamic) axes.
 */
export async function compareWithTfjs(root: Module, forward: Forward, inputShapes: readonly (readonly number[])[], options: Partial<ExportOnnxOptions> & { exportShapes?: readonly (readonly number[])[] } = {}): Promise<CompareResult> {
  const data = inputShapes.map((s, i) => randomInput(s, 100 + i));
  const tfOut = tf.tidy(() => forward(new TfExecutor(), data.map((d, i) => tf.tensor(d, [...inputShapes[i]!]))).map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape })));
  const names = inputShapes.map((_, i) => `input_${i}`);
  const bytes = exportOnnx(root, (ex: OnnxExecutor, xs: OnnxValue[]) => forward(ex, xs), {
    ...options,
    inputs: names.map((name, i) => ({ name, shape: options.exportShapes?.[i] ?? inputShapes[i]! })),
  });
  const session = await createSession(bytes);
  try {
    const feeds = Object.fromEntries(names.map((n, i) => [n, { data: data[i]!, shape: inputShapes[i]! }]));
    const out = await session.run(feeds);
    const onnxOut = session.outputNames.map((n) => out[n]!);
    return {
      relErrors: tfOut.map((t, i) => relError(onnxOut[i]!.data as Float32Array, t.data)),
      tfShapes: tfOut.map((t) => t.shape),
      onnxShapes: onnxOut.map((t) => [...t.shape]),
    };
  } finally {
    await session.dispose();
  }
}

/** max |a − ref| / max |ref| (∞ when lengths differ). */
export function relError(a: Float32Array, ref: Float32Array): number {
  if (a.length !== ref.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}
