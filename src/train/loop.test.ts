import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Module } from '../runtime/module.ts';
import { Conv2d, seedInit } from '../runtime/layers.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';
import { runTrainingLoop, type TrainableModel } from './loop.ts';
import { resolveTrainConfig } from './config.ts';
import { Rng } from './random.ts';
import type { TrainSample } from './sample.ts';
import { DensePoseError } from '../errors.ts';

class Tiny extends Module {
  c1 = this.addModule('c1', new Conv2d({ inChannels: 3, outChannels: 4, kernel: 3, padding: 1 }));
  c2 = this.addModule('c2', new Conv2d({ inChannels: 4, outChannels: 1, kernel: 3, padding: 1 }));
}

function tinyModel(scaleLoss = 1): TrainableModel {
  seedInit(1);
  const module = new Tiny();
  const ex = new TfExecutor();
  return {
    module,
    lossTerms(batch: TrainSample[]) {
      const x = tf.tensor4d(Float32Array.from(batch[0]!.image, (v) => v / 255), [1, 4, 4, 3]);
      const y = module.c2.forward(ex, ex.relu(module.c1.forward(ex, x)));
      // target: the mean brightness per pixel
      const target = tf.mean(x, 3, true);
      return { loss_fit: tf.mul(tf.mean(tf.square(tf.sub(y, target))), scaleLoss) as tf.Scalar };
    },
  };
}

const loader = {
  async batch(iteration: number): Promise<TrainSample[]> {
    const rng = Rng.forKeys(3, iteration);
    const image = Uint8Array.from({ length: 48 }, () => rng.int(256));
    return [{ image, width: 4, height: 4, people: [], datasetIndex: 0, imageId: iteration, flipped: false }];
  },
};

const solver = resolveTrainConfig({ model: {}, solver: { baseLr: 0.05, maxIter: 12, warmupIters: 2, checkpointPeriod: 4, keepCheckpoints: 2, clipNorm: 0 } as never }, '.').solver;
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'dp-loop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const losses = (run: string) =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { iteration: number; totalLoss: number })
    .map((r) => [r.iteration, r.totalLoss]);

describe('runTrainingLoop', () => {
  it('resumes after a crash with the uninterrupted loss sequence, and leaks nothing', async () => {
    const full = join(dir, 'full');
    const m1 = tinyModel();
    const before = tf.memory().numTensors;
    const r1 = await runTrainingLoop({ model: m1, loader, solver, out: full });
    expect(r1.stopped).toBe('finished');
    expect(tf.memory().numTensors).toBe(before);
    m1.module.dispose();

    const crashed = join(dir, 'crashed');
    const m2 = tinyModel();
    await expect(
      runTrainingLoop({
        model: m2,
        loader,
        solver,
        out: crashed,
        onLog: (row) => {
          if (row.iteration === 9) throw new Error('simulated kill');
        },
      }),
    ).rejects.toThrow('simulated kill');
    m2.module.dispose();
    // a fresh process: new model with other initial weights, state comes from the checkpoint (iteration 8)
    const m3 = tinyModel(1);
    const r3 = await runTrainingLoop({ model: m3, loader, solver, out: crashed, resume: true });
    expect(r3.iteration).toBe(12);
    expect(losses(crashed)).toEqual(losses(full));
    m3.module.dispose();
  });

  it('stops on a non-finite loss naming the iteration and keeping the last checkpoint', async () => {
    const run = join(dir, 'nan');
    const m = tinyModel();
    const bad: TrainableModel = {
      module: m.module,
      lossTerms: (batch, it) => (it === 6 ? { loss_fit: tf.mul(m.lossTerms(batch, it).loss_fit!, NaN) as tf.Scalar } : m.lossTerms(batch, it)),
    };
    const err = await runTrainingLoop({ model: bad, loader, solver, out: run }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DensePoseError);
    expect((err as Error).message).toContain('iteration 6');
    expect((err as Error).message).toContain('model_0000004.safetensors');
    m.module.dispose();
  });

  it('saves and stops cleanly when aborted', async () => {
    const run = join(dir, 'abort');
    const m = tinyModel();
    const ac = new AbortController();
    const r = await runTrainingLoop({ model: m, loader, solver, out: run, signal: ac.signal, onLog: (row) => row.iteration === 2 && ac.abort() });
    expect(r.stopped).toBe('aborted');
    expect(r.iteration).toBe(3);
    expect(r.lastCheckpoint).toContain('model_0000003');
    m.module.dispose();
  });
});
