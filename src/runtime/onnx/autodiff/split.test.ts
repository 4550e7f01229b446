import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamBag, randomInput, relError } from '../test-helpers.ts';
import type { OnnxValue } from '../onnx-executor.ts';
import { StageSession } from './stage-session.ts';
import { buildSplitTrainStage, buildTrainStage, SEED_PREFIX, type TrainStageSpec } from './train-graph.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small body: conv (stride 2) → GN → ReLU → max-pool → conv → resize ×2, a host-target loss and a seeded output. */
function spec(): TrainStageSpec {
  const bag = new ParamBag();
  const w1 = bag.param('c1_weight', [3, 3, 3, 8]);
  const b1 = bag.param('c1_bias', [8]);
  const gamma = bag.param('gn_weight', [8], { mean: 1, std: 0.2 });
  const beta = bag.param('gn_bias', [8], { std: 0.2 });
  const w2 = bag.param('c2_weight', [3, 3, 8, 4]);
  return {
    root: bag,
    inputs: [{ name: 'image', shape: [1, -1, -1, 3] }],
    build(ex, [x], host) {
      let y = ex.conv2d(x!, w1, b1, { stride: 2, padding: 1 });
      y = ex.relu(ex.groupNorm(y, 4, gamma, beta));
      y = ex.maxPool(y, { kernel: 3, stride: 2, padding: 1 });
      const feat = ex.conv2d(y, w2, null, { padding: 1 });
      const up = ex.resize(feat, { scale: 2, mode: 'bilinear' }) as OnnxValue;
      const g = ex.graph;
      // Loss reads a host target: it must stay in the backward graph.
      const t = host.tensor('target', [1, 4, -1, -1]);
      g.setDims(up.name, up.dims);
      const loss = g.setDims(g.op('ReduceSum', [g.setDims(g.op('Mul', [up.name, t]), up.dims)], { keepdims: { i: 0 } }), []);
      return { losses: { loss }, seeded: { feat } };
    },
  };
}

describe('keep-activations split of a training stage', () => {
  it('forward + backward from saved values gives the same losses and gradients as the one graph', async () => {
    const [h, w] = [13, 18];
    const image = { data: randomInput([1, h, w, 3], 5), shape: [1, h, w, 3] };
    const whole = await StageSession.create(buildTrainStage(spec()), { threads: 1 });
    const split = buildSplitTrainStage(spec());
    expect(split.forward.savedNames!.length).toBeGreaterThan(3);
    const fwd = await StageSession.create(split.forward, { threads: 1 });
    const bwd = await StageSession.create(split.backward, { threads: 1 });
    try {
      const f = await fwd.run({ image });
      const feat = f.outputs.feat!;
      const fh = feat.shape[1]!;
      const fw = feat.shape[2]!;
      const target = { data: randomInput([1, 4, 2 * fh, 2 * fw], 6), shape: [1, 4, 2 * fh, 2 * fw] };
      const seed = { data: randomInput([...feat.shape], 7), shape: feat.shape };
      const ref = await whole.run({ image, target, [`${SEED_PREFIX}feat`]: seed });
      expect(relError(feat.data as Float32Array, ref.outputs.feat!.data as Float32Array)).toBeLessThan(1e-6);
      const saved = Object.fromEntries(split.forward.savedNames!.map((n) => [n, f.outputs[n]!]));
      const got = await bwd.run({ image, target, [`${SEED_PREFIX}feat`]: seed, ...saved });
      expect(Math.abs(got.losses.loss! - ref.losses.loss!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.losses.loss!)));
      expect([...got.grads.keys()].sort()).toEqual([...ref.grads.keys()].sort());
      for (const [n, g] of ref.grads) expect(relError(got.grads.get(n)!, g), n).toBeLessThan(1e-5);
    } finally {
      await whole.dispose();
      await fwd.dispose();
      await bwd.dispose();
    }
  });
});
