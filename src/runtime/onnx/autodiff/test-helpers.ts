import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../../module.ts';
import { TfExecutor } from '../../tf-executor.ts';
import type { OnnxValue } from '../onnx-executor.ts';
import { randomInput, relError, type Forward } from '../test-helpers.ts';
import { StageSession } from './stage-session.ts';
import { buildTrainStage } from './train-graph.ts';

export interface GradientComparison {
  /** Relative error of dL/d(input i), NHWC. */
  inputErrors: number[];
  /** Relative error per trainable parameter name. */
  paramErrors: Record<string, number>;
  lossError: number;
}

/**
 * Differentiate L = Σ_k Σ y_k·R_k (R_k fixed random, NHWC) of `forward` on tfjs (`tf.variableGrads`,
 * the reference, its gradients checked against finite differences) and through our ONNX reverse mode
 * on ONNX Runtime; compare dL/d(inputs) and dL/d(every trainable parameter of `root`).
 */
export async function compareGradients(root: Module, forward: Forward, inputShapes: readonly (readonly number[])[], options: { exportShapes?: readonly (readonly number[])[] } = {}): Promise<GradientComparison> {
  const data = inputShapes.map((s, i) => randomInput(s, 200 + i));
  const tfEx = new TfExecutor();
  const xs = data.map((d, i) => tf.variable(tf.tensor(d, [...inputShapes[i]!]), true));
  const outShapes = tf.tidy(() => forward(tfEx, xs).map((t) => t.shape));
  const rs = outShapes.map((s, k) => randomInput(s, 300 + k));
  const params = root.namedParameters().filter(([, p]) => p.trainable);
  const vars = [...xs, ...params.map(([, p]) => p.variable)];
  const { value, grads } = tf.variableGrads(() => tf.addN(forward(tfEx, xs).map((y, k) => tf.sum(tf.mul(y, tf.tensor(rs[k]!, outShapes[k]!))))) as tf.Scalar, vars);
  const tfLoss = value.dataSync()[0]!;
  // An input only read for its shape (resizeLike's `like`) has no tfjs gradient: zeros.
  const tfInput = xs.map((x) => (grads[x.name]?.dataSync() as Float32Array | undefined) ?? new Float32Array(x.size));
  const tfParam = new Map(params.map(([n, p]) => [n, grads[p.variable.name]!.dataSync() as Float32Array]));
  tf.dispose([value, ...Object.values(grads), ...xs]);

  const names = inputShapes.map((_, i) => `input_${i}`);
  const stage = buildTrainStage({
    root,
    inputs: names.map((name, i) => ({ name, shape: options.exportShapes?.[i] ?? inputShapes[i]! })),
    inputGradients: names,
    build(ex, inputs, host) {
      const ys = forward(ex, inputs);
      const g = ex.graph;
      const terms = ys.map((y: OnnxValue, k) => {
        const flat = y.layout === 'flat';
        const r = host.tensor(`r_${k}`, flat ? y.dims : ex.shape(y).map(() => -1));
        const rg = flat ? r : g.op('Transpose', [r], { perm: { ints: [0, 3, 1, 2] } });
        g.setDims(rg, y.dims);
        g.setDims(y.name, y.dims);
        return g.setDims(g.op('ReduceSum', [g.setDims(g.op('Mul', [y.name, rg]), y.dims)], { keepdims: { i: 0 } }), []);
      });
      const loss = terms.reduce((a, b) => g.setDims(g.op('Add', [a, b]), []));
      return { losses: { loss } };
    },
  });
  const session = await StageSession.create(stage, { threads: 1 });
  try {
    const feeds = Object.fromEntries([
      ...names.map((n, i) => [n, { data: data[i]!, shape: inputShapes[i]! }] as const),
      ...rs.map((r, k) => [`r_${k}`, { data: r, shape: outShapes[k]! }] as const),
    ]);
    const out = await session.run(feeds);
    const paramErrors: Record<string, number> = {};
    for (const [n, ref] of tfParam) paramErrors[n] = relError(out.grads.get(n)!, ref);
    return {
      inputErrors: names.map((n, i) => relError(out.inputGrads.get(n)!.data as Float32Array, tfInput[i]!)),
      paramErrors,
      lossError: Math.abs(out.losses['loss']! - tfLoss) / Math.max(Math.abs(tfLoss), 1e-6),
    };
  } finally {
    await session.dispose();
  }
}
