// End to end on synthetic people: a tiny config overfits 4 images, and a run killed with SIGKILL
// resumes (`--resume`) with exactly the uninterrupted run's loss sequence.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/synth/index.ts';
import { resolveTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/train.ts';
import type { MetricsRow } from '../../src/train/metrics-log.ts';
import { exportModelFile } from '../../src/train/checkpointer.ts';
import { readSafetensors } from '../../src/runtime/checkpoint/index.ts';
import { loadModel } from '../../src/infer/model-file.ts';
import { initBackend } from '../../src/runtime/backend.ts';

const TINY = resolve('configs/test/tiny.json');
const BIN = resolve('bin/densepose.js');
let dir: string;
let data: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dp-train-'));
  data = join(dir, 'synth');
  await generateDataset({ out: data, images: 4, seed: 3, width: 160, height: 120, workers: 0, bodyRows: 60 });
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rows(run: string): MetricsRow[] {
  return readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRow);
}

describe('train on synthetic people', () => {
  // Sampled points (COCO's ~100 per person) and dense targets (every pixel of the IUV PNG, dp_dense) overfit
  // alike; both kinds in the same batches (the set twice, read each way) train too (a shorter run).
  const overfitCases = [
    ['points', [{ path: '', targets: 'points' }], 260, 10],
    ['dense', [{ path: '', targets: 'dense' }], 260, 10],
    ['mixed points + dense', [{ path: '', targets: 'points' }, { path: '', targets: 'dense' }], 60, 2],
  ] as const;
  it.each(overfitCases)('overfits 4 images with %s targets: the loss falls by the factor given', async (name, sets, maxIter, factor) => {
    const config = resolveTrainConfig(
      {
        model: TINY,
        mode: 'head',
        data: sets.map((d) => ({ ...d, path: data })),
        seed: 1,
        solver: { baseLr: 0.05, maxIter, imsPerBatch: 2, warmupIters: 10, checkpointPeriod: 1000, weightDecay: 0 } as never,
        input: { minSizeTrain: [120], maxSizeTrain: 320, flipProbability: 0, colorJitter: 0 } as never,
      },
      '.',
    );
    const out = join(dir, `overfit-${name.replace(/\W+/g, '-')}`);
    const result = await train(config, { out, backend: 'wasm' });
    result.rcnn.model.dispose();
    const losses = rows(out).map((r) => r.totalLoss!);
    const first = losses[0]!;
    const last = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(Number.isFinite(last)).toBe(true);
    expect(first / last, `${name}: first ${first}, mean of the last 10 ${last}`).toBeGreaterThanOrEqual(factor);
    expect(existsSync(join(out, 'model_final.safetensors'))).toBe(true);
  }, 900_000);

  it('resumes after SIGKILL with the uninterrupted loss sequence', async () => {
    const cfgPath = join(dir, 'resume.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        model: TINY,
        mode: 'end2end',
        data: [{ path: data }],
        seed: 5,
        solver: { baseLr: 0.02, maxIter: 10, imsPerBatch: 2, warmupIters: 2, checkpointPeriod: 3, keepCheckpoints: 2 },
        input: { minSizeTrain: [112, 120], maxSizeTrain: 320, flipProbability: 0.5, colorJitter: 0.2 },
      }),
    );
    const run = (out: string, extra: string[] = [], killAfter?: number) =>
      new Promise<number | null>((done, fail) => {
        const child = spawn(process.execPath, [BIN, 'train', '--config', cfgPath, '--out', out, '--backend', 'wasm', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        const timer =
          killAfter === undefined
            ? undefined
            : setInterval(() => {
                const log = join(out, 'metrics.jsonl');
                if (existsSync(log) && readFileSync(log, 'utf8').split('\n').length > killAfter + 1) child.kill('SIGKILL');
              }, 50);
        child.on('error', fail);
        child.on('exit', (code, signal) => {
          if (timer) clearInterval(timer);
          if (code !== 0 && signal !== 'SIGKILL') fail(new Error(`train exited ${code}: ${err}`));
          else done(code);
        });
      });
    const full = join(dir, 'full');
    const killed = join(dir, 'killed');
    await run(full);
    await run(killed, [], 7);
    const before = rows(killed).length;
    expect(before).toBeLessThan(10);
    await run(killed, ['--resume']);
    const a = rows(full).map((r) => [r.iteration, r.totalLoss, r.losses]);
    const b = rows(killed).map((r) => [r.iteration, r.totalLoss, r.losses]);
    expect(b).toEqual(a);
    expect(existsSync(join(killed, 'curves.png'))).toBe(true);
    // the run as a model file: model tensors and config only, loadable by the inference API
    const model = join(dir, 'exported.safetensors');
    exportModelFile(killed, model);
    const { tensors, metadata } = readSafetensors(model);
    expect([...tensors.keys()].some((k) => k.startsWith('__optimizer__'))).toBe(false);
    expect(JSON.parse(metadata.config!).name).toBe('tiny_test');
    await initBackend({ backend: 'cpu' });
    const rcnn = loadModel(model);
    const count = rcnn.model.parameterCount();
    expect(count).toBeGreaterThan(0);
    rcnn.model.dispose();
    // A training checkpoint itself (optimiser state inside) loads like a model file, as `infer --model RUN/checkpoints/…` does.
    const ckpt = join(killed, 'checkpoints', readFileSync(join(killed, 'checkpoints', 'last_checkpoint'), 'utf8').trim());
    expect([...readSafetensors(ckpt).tensors.keys()].some((k) => k.startsWith('__optimizer__'))).toBe(true);
    const fromCkpt = loadModel(ckpt);
    expect(fromCkpt.model.parameterCount()).toBe(count);
    fromCkpt.model.dispose();
  }, 600_000);
});
