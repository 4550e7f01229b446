// Validation runs the inference pipeline on the model's current weights: its scores are those of
// `infer`'s results file (toCocoResult → the uv_data `eval` decodes), on ONNX Runtime and on tfjs alike,
// and a weight changed between two validations changes the second one.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCocoJson, type LoadedResult } from '../../src/data/coco.ts';
import { loadSmplBodyModel } from '../../src/eval/body-model.ts';
import { evaluateDetections } from '../../src/eval/detection-eval.ts';
import { evaluateDensePose } from '../../src/eval/densepose-eval.ts';
import { decodeDensePoseResults } from '../../src/eval/densepose-results.ts';
import { createDensePose } from '../../src/infer/densepose.ts';
import type { DensePoseRcnn } from '../../src/model/densepose-rcnn.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { generateDataset } from '../../src/synth/index.ts';
import { resolveDataPaths } from '../../src/train/datasets.ts';
import { validateRcnn, validationResults } from '../../src/train/validate.ts';
import { biasedModel } from '../infer/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'dp-validate-'));
const val = join(dir, 'val');
let rcnn: DensePoseRcnn;
const SIZES = { minSizeTest: 96, maxSizeTest: 128 };

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  await generateDataset({ out: val, images: 3, seed: 5, width: 128, height: 96, workers: 0, bodyRows: 4 });
  rcnn = biasedModel();
}, 120_000);
afterAll(() => {
  rcnn?.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('validateRcnn', () => {
  it('scores what infer writes: its toCocoResult results, decoded as eval reads them', async () => {
    const scores = await validateRcnn(rcnn, val, { ...SIZES, engine: 'onnx' });
    // the same model through the public API, results as `densepose infer` writes them
    const { json, imageDir } = resolveDataPaths(val);
    const gt = loadCocoJson(json);
    const dp = await createDensePose({ model: rcnn, minSize: SIZES.minSizeTest, maxSize: SIZES.maxSizeTest, scoreThreshold: rcnn.model.roi_heads.options.scoreThreshTest });
    const written: LoadedResult[] = [];
    try {
      for (const im of gt.images) for (const p of await dp.estimate(join(imageDir, im.file_name))) written.push({ ...p.toCocoResult(im.id), id: written.length + 1, area: p.box[2] * p.box[3], index: written.length } as LoadedResult);
    } finally {
      await dp.dispose();
    }
    expect(written.length).toBeGreaterThan(0);
    const dets = await decodeDensePoseResults(written, 'infer results');
    const bbox = evaluateDetections(gt, written, 'bbox');
    const gps = evaluateDensePose(gt, dets, loadSmplBodyModel(join(val, 'body')), { modes: ['gps'] }).gps!;
    expect(scores).toEqual({ bboxAP: bbox.stats[0], bboxAP50: bbox.stats[1], gpsAP: gps.stats[0], gpsAP50: gps.stats[1] });
  }, 120_000);

  it('tfjs gives the results ONNX Runtime gives, from the current weights (no tensors left)', async () => {
    const before = tf.memory().numTensors;
    const ort = await validationResults(rcnn, val, { ...SIZES, engine: 'onnx' });
    const wasm = await validationResults(rcnn, val, { ...SIZES, engine: 'tfjs' });
    expect(ort.length).toBeGreaterThan(0);
    expect(wasm.map((r) => [r.image_id, r.iuv.width, r.iuv.height])).toEqual(ort.map((r) => [r.image_id, r.iuv.width, r.iuv.height]));
    ort.forEach((r, i) => {
      expect(Math.max(...r.bbox.map((x, j) => Math.abs(x - wasm[i]!.bbox[j]!)))).toBeLessThan(0.05);
      expect(Math.abs(r.score - wasm[i]!.score)).toBeLessThan(1e-4);
      let same = 0;
      const n = r.iuv.width * r.iuv.height;
      for (let p = 0; p < n; p++) if (r.iuv.data[p] === wasm[i]!.iuv.data[p]) same++;
      expect(same / n).toBeGreaterThan(0.99);
    });
    expect(tf.memory().numTensors).toBe(before);
    // nobody is a person any more: a stale export would still find the same people
    const bias = new Map(rcnn.model.namedParameters()).get('roi_heads.box_predictor.cls_score.bias')!;
    const old = tf.clone(bias.variable);
    tf.tidy(() => bias.assign(tf.tensor1d([-30, 30])));
    try {
      expect(await validationResults(rcnn, val, { ...SIZES, engine: 'onnx' })).toEqual([]);
    } finally {
      bias.assign(old);
      old.dispose();
    }
  }, 180_000);
});
