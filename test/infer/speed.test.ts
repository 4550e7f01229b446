// The speed work must not change what inference returns: the DensePose stage's free functions against
// the per-box path they replace, the step profile, the opt-in int8 head (close, never the default),
// and the browser page's execution-provider choice.
import { beforeAll, describe, expect, it } from 'vitest';
import { createDensePose, DensePoseError } from '../../src/index.ts';
import { poolDensePoseRois, runDensePoseHeadBatched } from '../../src/infer/densepose-stage.ts';
import { StepTimes } from '../../src/infer/profile.ts';
import { chooseWebExecutionProviders, type AdapterLike } from '../../src/infer/web-ep.ts';
import { pipelineSpec } from '../../src/infer/spec.ts';
import type { StageTensor } from '../../src/infer/types.ts';
import { roiAlignArrays } from '../../src/model/roi-align.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { biasedModel, syntheticImage, tinyModelFile } from './helpers.ts';

let modelPath: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  modelPath = await tinyModelFile();
}, 60_000);

function seeded(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

describe('DensePose stage functions', () => {
  it('poolDensePoseRois equals one roiAlignArrays call per box, in roi order, across images', () => {
    const dp = { ...pipelineSpec(biasedModel()).densepose, decoder: true, featureStrides: [4], channels: 8, poolerResolution: [6, 5] as [number, number] };
    const shape = [1, 12, 16, 8] as const;
    const maps = [seeded(12 * 16 * 8, 3), seeded(12 * 16 * 8, 5)];
    const rois = [
      { image: 1, modelBox: [4, 6, 30, 40] },
      { image: 0, modelBox: [0, 0, 63, 47] },
      { image: 1, modelBox: [10.5, 2.25, 20, 44] },
      { image: 0, modelBox: [8, 8, 9, 9] },
    ];
    const got = poolDensePoseRois(dp, (n) => [{ data: maps[n]!, shape }], rois);
    const cell = 6 * 5 * 8;
    rois.forEach((r, j) => {
      const want = roiAlignArrays(maps[r.image]!, shape, Float32Array.from(r.modelBox), { outputSize: [6, 5], spatialScale: 1 / 4, samplingRatio: dp.poolerSamplingRatio, aligned: dp.poolerAligned });
      const part = got.subarray(j * cell, (j + 1) * cell);
      let err = 0;
      for (let i = 0; i < cell; i++) err = Math.max(err, Math.abs(part[i]! - want[i]!));
      expect(err, `roi ${j}`).toBeLessThan(1e-5);
    });
  });

  it('runDensePoseHeadBatched makes one stage run for all boxes and checks its shapes', async () => {
    const calls: StageTensor[] = [];
    const out = (k: number, c: number): StageTensor => ({ data: new Float32Array(k * 4 * 3 * c), shape: [k, 4, 3, c] });
    const runner = {
      run: async (_stage: 'densepose', feeds: Record<string, StageTensor>) => {
        calls.push(feeds['pooled']!);
        const k = feeds['pooled']!.shape[0]!;
        return { coarse_segm: out(k, 2), fine_segm: out(k, 25), u: out(k, 25), v: out(k, 25) };
      },
    };
    const arrays = await runDensePoseHeadBatched(runner, { data: new Float32Array(7 * 2 * 2 * 3), shape: [7, 2, 2, 3] });
    expect(calls).toHaveLength(1);
    expect([arrays.count, arrays.height, arrays.width, arrays.segmChannels, arrays.patchChannels]).toEqual([7, 4, 3, 2, 25]);
    await expect(runDensePoseHeadBatched(runner, { data: new Float32Array(5), shape: [7, 2, 2, 3] })).rejects.toThrow(/SHAPE|pooled must be/);
  });

  it('the whole-batch head run gives the same people as one head run per box', async () => {
    const { DensePosePipeline } = await import('../../src/infer/pipeline.ts');
    const { exportStages } = await import('../../src/infer/export-stages.ts');
    const { createNodeStageRunner } = await import('../../src/infer/node-runner.ts');
    const { loadModel } = await import('../../src/infer/model-file.ts');
    const { readImage } = await import('../../src/infer/image-io.ts');
    const rcnn = loadModel(modelPath);
    const pipeline = new DensePosePipeline(pipelineSpec(rcnn), await createNodeStageRunner(exportStages(rcnn), { threads: 1 }));
    rcnn.model.dispose();
    const images = await Promise.all([syntheticImage(160, 120, 3), syntheticImage(160, 120, 4)].map((i) => readImage(i)));
    const times = new StepTimes();
    const batched = await pipeline.run(images, { profile: times });
    const single = await pipeline.run(images, { headBatch: 1 });
    await pipeline.dispose();
    expect(batched.flat().length).toBeGreaterThan(1);
    expect(single.map((p) => p.length)).toEqual(batched.map((p) => p.length));
    single.flat().forEach((p, i) => {
      const q = batched.flat()[i]!;
      expect(q.box).toEqual(p.box);
      let same = 0;
      for (let k = 0; k < p.densepose.labels.length; k++) if (p.densepose.labels[k] === q.densepose.labels[k]) same++;
      expect(same / p.densepose.labels.length).toBeGreaterThan(0.999);
    });
    // The profile saw every stage and host step, once per run (one head run for both images).
    expect([...times.steps.keys()]).toEqual(expect.arrayContaining(['preprocess', 'stage body', 'proposals (top-k, decode, NMS)', 'box RoIAlign', 'stage boxHead', 'DensePose RoIAlign', 'stage densepose', 'chart post-processing']));
    expect(times.steps.get('stage densepose')!.calls).toBe(1);
  }, 120_000);
});

describe('int8 DensePose head (opt-in)', () => {
  it('needs calibration images and the ONNX backend', async () => {
    await expect(createDensePose({ model: modelPath, precision: 'int8-head' })).rejects.toThrow(DensePoseError);
    await expect(createDensePose({ model: modelPath, precision: 'int8-head', backend: 'tfjs', calibrationImages: [syntheticImage(160, 120, 1)] })).rejects.toThrow(/needs backend "onnx"/);
    // @ts-expect-error an unknown precision is refused with the valid ones listed
    await expect(createDensePose({ model: modelPath, precision: 'fp8' })).rejects.toThrow(/float32, int8-head/);
  });

  it('keeps the boxes and nearly all labels of the float32 head', async () => {
    const images = [syntheticImage(160, 120, 3), syntheticImage(160, 120, 4)];
    const f32 = await createDensePose({ model: modelPath, threads: 1 });
    const i8 = await createDensePose({ model: modelPath, threads: 1, precision: 'int8-head', calibrationImages: [syntheticImage(160, 120, 7), syntheticImage(160, 120, 8)] });
    const a = (await f32.estimate(images)).flat();
    const b = (await i8.estimate(images)).flat();
    await f32.dispose();
    await i8.dispose();
    expect(b.map((p) => p.box)).toEqual(a.map((p) => p.box));
    let same = 0;
    let total = 0;
    a.forEach((p, i) => {
      for (let k = 0; k < p.densepose.labels.length; k++) {
        total++;
        if (p.densepose.labels[k] === b[i]!.densepose.labels[k]) same++;
      }
    });
    expect(total).toBeGreaterThan(0);
    expect(same / total).toBeGreaterThan(0.9);
  }, 120_000);
});

describe('web execution provider choice', () => {
  const gpu = (adapter: AdapterLike | null) => ({ requestAdapter: async () => adapter });
  it('WebGPU on a hardware adapter, wasm without one or on a software adapter, forced by ?ep=', async () => {
    expect((await chooseWebExecutionProviders(gpu({ info: { vendor: 'nvidia', architecture: 'ampere' } }))).providers).toEqual(['webgpu', 'wasm']);
    expect((await chooseWebExecutionProviders(undefined)).providers).toEqual(['wasm']);
    expect((await chooseWebExecutionProviders(gpu(null))).reason).toMatch(/no adapter/);
    const swiftshader = gpu({ info: { vendor: 'google', architecture: 'swiftshader' } });
    expect((await chooseWebExecutionProviders(swiftshader)).providers).toEqual(['wasm']);
    expect((await chooseWebExecutionProviders(swiftshader, 'webgpu')).providers).toEqual(['webgpu', 'wasm']);
    expect((await chooseWebExecutionProviders(gpu({ isFallbackAdapter: true }))).providers).toEqual(['wasm']);
    expect((await chooseWebExecutionProviders(gpu({ info: { vendor: 'nvidia' } }), 'wasm')).providers).toEqual(['wasm']);
  });
});
