import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDensePose, DensePoseError, readModelConfig } from '../../src/index.ts';
import { loadModel, saveModel } from '../../src/infer/model-file.ts';
import { prepareBatch } from '../../src/infer/preprocess.ts';
import { proposeBoxes } from '../../src/infer/proposals.ts';
import { AnchorCache } from '../../src/model/rpn/anchors.ts';
import { pipelineSpec } from '../../src/infer/spec.ts';
import { personFromChallengeResult } from '../../src/vis/challenge-results.ts';
import { preprocessImage } from '../../src/model/preprocess.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { biasedModel, syntheticImage, tinyConfig, tinyModelFile } from './helpers.ts';

let modelPath: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  modelPath = await tinyModelFile();
}, 60_000);

describe('model file', () => {
  it('stores the config in the safetensors metadata and loads back the same weights', async () => {
    const config = readModelConfig(modelPath);
    expect(config).toEqual(tinyConfig());
    const a = loadModel(modelPath);
    const dir = mkdtempSync(join(tmpdir(), 'dp-model-'));
    await saveModel(join(dir, 'copy.safetensors'), a);
    const b = loadModel(join(dir, 'copy.safetensors'));
    const pa = new Map(a.model.namedParameters());
    for (const [name, p] of b.model.namedParameters()) {
      const x = p.variable.dataSync() as Float32Array;
      const y = pa.get(name)!.variable.dataSync() as Float32Array;
      expect(Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)), name).toBe(0);
    }
    a.model.dispose();
    b.model.dispose();
  });

  it('a checkpoint without config metadata is refused with the file named', () => {
    expect(() => readModelConfig('/work/shared/fixtures/detectron2/does-not-exist.safetensors')).toThrow(DensePoseError);
  });
});

describe('pipeline pieces against the tfjs reference', () => {
  it('prepareBatch equals preprocessImage (resize, BGR, mean) and pads a batch to one size', () => {
    const spec = pipelineSpec(biasedModel());
    const a = syntheticImage(83, 61, 2);
    const b = syntheticImage(40, 90, 3);
    const batch = prepareBatch([a, b], spec, { minSize: 48, maxSize: 100 });
    for (const [n, im] of [a, b].entries()) {
      const ref = preprocessImage(im.data, im.height, im.width, { ...spec.input, minSizeTest: 48, maxSizeTest: 100 });
      const [h, w] = ref.imageSize;
      expect(batch.sizes[n]).toEqual([h, w]);
      const r = ref.tensor.dataSync();
      const [, , wp] = ref.tensor.shape;
      const [, bw] = batch.paddedSize;
      let max = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
        max = Math.max(max, Math.abs(r[(y * wp + x) * 3 + c]! - batch.data[((n * batch.paddedSize[0] + y) * bw + x) * 3 + c]!));
      }
      expect(max).toBeLessThan(1e-3);
      ref.tensor.dispose();
    }
    expect(batch.paddedSize[0] % 32).toBe(0);
    expect(batch.paddedSize[1] % 32).toBe(0);
  });

  it('proposeBoxes equals the Rpn module on random head outputs', () => {
    const rcnn = biasedModel();
    const spec = pipelineSpec(rcnn);
    let s = 7;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const sizes = [[16, 20], [8, 10], [4, 5], [2, 3], [1, 2]] as const;
    const a = spec.rpn.aspectRatios.length;
    const logits = sizes.map(([h, w]) => Float32Array.from({ length: h * w * a }, rnd));
    const deltas = sizes.map(([h, w]) => Float32Array.from({ length: h * w * a * 4 }, () => rnd() * 0.5));
    const ours = proposeBoxes(spec.rpn, new AnchorCache(spec.rpn), logits, deltas, sizes, [61, 77]);
    const ref = rcnn.model.proposal_generator.propose(logits, deltas, sizes, [61, 77], 'test');
    expect(ours.boxes.length).toBeGreaterThan(0);
    expect(Array.from(ours.boxes)).toEqual(Array.from(ref.boxes));
    expect(Array.from(ours.logits)).toEqual(Array.from(ref.logits));
    rcnn.model.dispose();
  });
});

describe('createDensePose', () => {
  it('ONNX Runtime and tfjs give the same people; every input form works; results are plain data', async () => {
    const image = syntheticImage(64, 64, 5);
    const onnx = await createDensePose({ model: modelPath, minSize: 48, maxSize: 64, threads: 1 });
    const tfjs = await createDensePose({ model: modelPath, backend: 'tfjs', tfjsBackend: 'cpu', minSize: 48, maxSize: 64 });
    expect(onnx.backend).toBe('onnx');
    expect(tfjs.backend).toBe('tfjs');
    const a = await onnx.estimate(image);
    const b = await tfjs.estimate(image);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) {
      const p = a[i]!, q = b[i]!;
      p.box.forEach((v, k) => expect(Math.abs(v - q.box[k]!)).toBeLessThan(1e-2));
      expect(Math.abs(p.score - q.score)).toBeLessThan(1e-4);
      expect([p.densepose.width, p.densepose.height]).toEqual([q.densepose.width, q.densepose.height]);
      let same = 0;
      for (let k = 0; k < p.densepose.labels.length; k++) if (p.densepose.labels[k] === q.densepose.labels[k]) same++;
      expect(same / p.densepose.labels.length).toBeGreaterThan(0.99);
      const { labels, u, width, height } = p.densepose;
      expect(labels.length).toBe(width * height);
      expect(labels.some((l) => l > 0)).toBe(true);
      expect(labels.every((l) => l <= 24)).toBe(true);
      for (let k = 0; k < u.length; k++) if (labels[k] === 0) expect(u[k]).toBe(0);
      const iuv = p.densepose.toIUV();
      expect(iuv.length).toBe(3 * width * height);
      expect(iuv[0]).toBe(labels[0]);
      expect(JSON.parse(JSON.stringify({ box: p.box, score: p.score }))).toEqual({ box: p.box, score: p.score });
    }
    // Same pixels as a PNG file, an encoded buffer, RGBA raw pixels.
    const dir = mkdtempSync(join(tmpdir(), 'dp-api-'));
    const png = await sharp(image.data, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    await sharp(png).toFile(join(dir, 'x.png'));
    const rgba = new Uint8Array(64 * 64 * 4);
    for (let i = 0; i < 64 * 64; i++) rgba.set([...image.data.subarray(3 * i, 3 * i + 3), 255], 4 * i);
    const many = await onnx.estimate([join(dir, 'x.png'), readFileSync(join(dir, 'x.png')), { width: 64, height: 64, data: rgba }]);
    expect(many).toHaveLength(3);
    for (const people of many) expect(people.map((p) => p.box)).toEqual(a.map((p) => p.box));
    // Per-call threshold above every score: nobody.
    expect(await onnx.estimate(image, { scoreThreshold: 1 })).toEqual([]);
    await onnx.dispose();
    await tfjs.dispose();
    await expect(onnx.estimate(image)).rejects.toThrow(/disposed/);
  }, 120_000);

  it('results serialise small: toJSON gives the challenge PNG (or arrays), toCocoResult reads back through the results codec', async () => {
    const dp = await createDensePose({ model: modelPath, minSize: 48, maxSize: 64, threads: 1 });
    const people = await dp.estimate(syntheticImage(64, 64, 5));
    await dp.dispose();
    expect(people.length).toBeGreaterThan(0);
    const p = people[0]!;
    const { width: w, height: h } = p.densepose;
    const text = JSON.stringify(people);
    // the typed arrays alone would be ~9 bytes a pixel as {"0":…}; the PNG form is well under 1 byte a pixel here
    expect(text.length).toBeLessThan(people.reduce((n, q) => n + q.densepose.width * q.densepose.height, 0) + 200 * people.length);
    const json = JSON.parse(text) as { box: number[]; score: number; densepose: { width: number; height: number; uv_shape: number[]; uv_data: string } }[];
    expect(json[0]!.box).toEqual(p.box);
    expect(json[0]!.score).toBe(p.score);
    expect(json[0]!.densepose.uv_shape).toEqual([3, h, w]);
    const coco = p.toCocoResult(7);
    expect(coco).toMatchObject({ image_id: 7, category_id: 1, bbox: p.box, score: p.score, uv_shape: [3, h, w], uv_data: json[0]!.densepose.uv_data });
    // the PNG holds exactly toIUV()'s bytes
    const decoded = await sharp(Buffer.from(coco.uv_data, 'base64')).raw().toBuffer();
    expect(new Uint8Array(decoded)).toEqual(p.densepose.toIUV());
    const back = await personFromChallengeResult(coco, 'toCocoResult');
    expect(Array.from(back.densepose.labels)).toEqual(Array.from(p.densepose.labels));
    const arrays = p.toJSON({ iuv: 'arrays' }).densepose as { labels: number[]; u: number[]; v: number[] };
    expect(arrays.labels).toEqual(Array.from(p.densepose.labels));
    expect(arrays.u).toEqual(Array.from(p.densepose.u));
    expect(arrays.v).toEqual(Array.from(p.densepose.v));
  });

  it('bad options name the option and its valid values', async () => {
    await expect(createDensePose({ model: modelPath, backend: 'torch' as 'onnx' })).rejects.toThrow(/Unknown inference backend "torch". Expected one of: onnx, tfjs/);
    await expect(createDensePose({ model: modelPath, scoreThreshold: 2 })).rejects.toThrow(/scoreThreshold/);
    await expect(createDensePose({ model: '/nonexistent/model.safetensors' })).rejects.toThrow(/nonexistent/);
  });

  it('leak test: 200 estimate calls on ONNX Runtime leave tfjs tensors and RSS flat; tfjs calls leave tensors flat', async () => {
    const image = syntheticImage(64, 48, 9);
    const dp = await createDensePose({ model: modelPath, minSize: 32, maxSize: 64, threads: 1 });
    for (let i = 0; i < 20; i++) await dp.estimate(image);
    const tensors = tf.memory().numTensors;
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 200; i++) await dp.estimate(image);
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    expect(tf.memory().numTensors).toBe(tensors);
    expect(grown, `RSS grew ${grown.toFixed(1)} MiB over 200 calls`).toBeLessThan(40);
    await dp.dispose();

    const t = await createDensePose({ model: modelPath, backend: 'tfjs', tfjsBackend: 'cpu', minSize: 32, maxSize: 64 });
    await t.estimate(image);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await t.estimate(image);
    expect(tf.memory().numTensors).toBe(before);
    await t.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  }, 300_000); // 200 calls: ~90 s on 2 shared cores under load
});
