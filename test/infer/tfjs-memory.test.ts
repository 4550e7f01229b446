// The tfjs runner frees every intermediate after its last use: the same outputs as the whole stage in
// one tf.tidy, only the outputs alive at its end (the tidy keeps every activation), and no tensor left
// behind across runs. The zoo-size figure (R50 at 800×1333 within wasm's 4 GB) is `bench tfjs-memory`.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageDefinitions } from '../../src/infer/stages.ts';
import { executorWithHook, planUses, runFreeing } from '../../src/infer/tfjs-liveness.ts';
import { createTfjsStageRunner } from '../../src/infer/tfjs-runner.ts';
import type { DensePoseRcnn } from '../../src/model/densepose-rcnn.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { biasedModel } from './helpers.ts';

let rcnn: DensePoseRcnn;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  rcnn = biasedModel();
});
afterAll(() => rcnn?.model.dispose());

describe('tfjs runner memory', () => {
  it('body stage: the one-tidy forward\'s outputs, only they alive at its end, under half its peak, numTensors stable across runs', async () => {
    const shape = [1, 128, 160, 3];
    const data = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', 3).dataSync() as Float32Array);
    const d = stageDefinitions(rcnn).body;
    const forward = d.forward.bind(d);
    const base = tf.memory().numBytes;
    // the whole stage in one tidy: every activation alive until the end (bytes sampled after every op)
    let wholePeak = 0;
    const sampling = executorWithHook(() => (wholePeak = Math.max(wholePeak, tf.memory().numBytes - base)));
    const want = tf.tidy(() => forward<tf.Tensor>(sampling, [tf.tensor(data, shape)]));
    const outBytes = want.reduce((n, t) => n + 4 * t.size, 0);
    const wantData = want.map((t) => t.dataSync());
    tf.dispose(want);
    // freed as it goes: the live set stays a few maps; at the end only the outputs are alive
    let peak = 0;
    const out = runFreeing(forward, planUses(forward, 1), [tf.tensor(data, shape)], () => (peak = Math.max(peak, tf.memory().numBytes - base)));
    expect(tf.memory().numBytes - base).toBe(outBytes);
    tf.dispose(out);
    expect(wholePeak).toBeGreaterThan(3 * outBytes);
    expect(peak).toBeLessThan(0.5 * wholePeak);

    const runner = createTfjsStageRunner(rcnn, { disposeModel: false });
    const before = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) {
      const out = await runner.run('body', { image: { data, shape } });
      expect(tf.memory().numTensors, `run ${r}`).toBe(before);
      d.outputs.forEach((name, i) => expect(Array.from(out[name]!.data), name).toEqual(Array.from(wantData[i]!)));
    }
    await runner.dispose();
  }, 120_000);

  it('densepose stage: no tensor left behind, and a missing feed is refused', async () => {
    const runner = createTfjsStageRunner(rcnn, { disposeModel: false });
    const [ph, pw] = rcnn.densepose.config.poolerResolution;
    const c = rcnn.densepose.decoder ? rcnn.densepose.config.decoderNumClasses : rcnn.densepose.config.inChannels;
    const before = tf.memory().numTensors;
    for (let r = 0; r < 2; r++) await runner.run('densepose', { pooled: { data: new Float32Array(2 * ph * pw * c).fill(0.5), shape: [2, ph, pw, c] } });
    expect(tf.memory().numTensors).toBe(before);
    await expect(runner.run('densepose', {})).rejects.toThrow(/no feed for input "pooled"/);
    expect(tf.memory().numTensors).toBe(before);
    await runner.dispose();
  }, 120_000);
});
