import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/runtime/backend.ts';
import { fromConfig } from '../../src/model/config.ts';
import { buildModel, type DetectorOutput, type GeneralizedRcnn } from '../../src/model/detector.ts';
import { loadDetectron2 } from '../../src/model/import-detectron2.ts';
import { FPN_LEVELS } from '../../src/model/backbone/fpn.ts';
import { preprocessImage } from '../../src/model/preprocess.ts';
import { exportStage } from '../../src/infer/export-stages.ts';
import { stageDefinitions } from '../../src/infer/stages.ts';
import { buildDensePoseRcnn } from '../../src/model/densepose-rcnn.ts';
import { createSession, type OnnxTensor } from '../../src/runtime/onnx/session.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS, maxAbs, nchwToNhwc, npy, relErr } from './helpers.ts';

const D2 = `${FIXTURES}/detectron2`;
const CONFIG = new URL('../../configs/densepose_rcnn_R_18_tiny_fixture.json', import.meta.url);

describe.skipIf(SKIP_FIXTURE_TESTS)('detectron2 parity (tiny R18 fixture, tfjs)', () => {
  let model: GeneralizedRcnn;
  let out: DetectorOutput;
  beforeAll(async () => {
    await initBackend({ backend: (process.env['DENSEPOSE_BACKEND'] as 'wasm' | 'cpu' | undefined) ?? 'wasm' });
    model = buildModel(fromConfig(JSON.parse(readFileSync(CONFIG, 'utf8'))));
    const report = loadDetectron2(model, `${D2}/densepose_rcnn_R_18_tiny_random.pkl`, { skipAbsentHeads: true });
    expect(report.loaded).toBe(model.namedParameters().length);
    const inp = npy('detectron2/tensors/normalized_input.npy');
    const x = tf.tensor4d(nchwToNhwc(inp.data, inp.shape), [1, 480, 640, 3]);
    out = model.detect(x, [480, 640]);
    x.dispose();
  });
  afterAll(() => {
    if (out) tf.dispose(Object.values(out.features));
    model?.dispose();
  });

  it('preprocessing reproduces normalized_input', () => {
    const bgr = npy('detectron2/image_480x640_bgr_hwc_uint8.npy');
    const prepared = preprocessImage(Uint8Array.from(bgr.data), 480, 640, { pixelFormat: 'BGR', resize: false });
    const want = npy('detectron2/tensors/normalized_input.npy');
    expect(maxAbs(prepared.tensor.dataSync(), nchwToNhwc(want.data, want.shape))).toBeLessThan(1e-4);
    prepared.tensor.dispose();
  });

  for (const name of ['res2', 'res3', 'res4', 'res5', ...FPN_LEVELS] as const) {
    it(`${name} within 1e-3 relative`, () => {
      const want = npy(`detectron2/tensors/${name}.npy`);
      const got = out.features[name];
      expect(got.shape).toEqual([1, want.shape[2], want.shape[3], want.shape[1]]);
      expect(relErr(got.dataSync(), nchwToNhwc(want.data, want.shape))).toBeLessThan(1e-3);
    });
  }

  it('RPN proposals: all 1000 boxes (<0.5 px) and objectness match detectron2, same order', () => {
    const boxes = npy('detectron2/rpn_proposals_xyxy.npy').data;
    const logits = npy('detectron2/rpn_objectness_logits.npy').data;
    expect(out.proposals.logits.length).toBe(logits.length);
    const top = logits.length;
    expect(maxAbs(out.proposals.boxes.subarray(0, 4 * top), boxes.subarray(0, 4 * top))).toBeLessThan(0.5);
    expect(maxAbs(out.proposals.logits.subarray(0, top), logits.subarray(0, top))).toBeLessThan(1e-3);
  });

  it('final detections: all 100 boxes within 0.5 px, scores in the same order', () => {
    const boxes = npy('detectron2/det_boxes_xyxy.npy').data;
    const scores = npy('detectron2/det_scores.npy').data;
    expect(out.detections.scores.length).toBe(scores.length);
    const top = scores.length;
    expect(maxAbs(out.detections.boxes.subarray(0, 4 * top), boxes.subarray(0, 4 * top))).toBeLessThan(0.5);
    expect(maxAbs(out.detections.scores.subarray(0, top), scores.subarray(0, top))).toBeLessThan(1e-4);
  });
});

// On ONNX Runtime: the pipeline's body stage (the one stage definition createDensePose exports). Proposals,
// detections, labels and U/V through createDensePose on both backends: create-densepose-parity.test.ts.
describe.skipIf(SKIP_FIXTURE_TESTS)('detectron2 parity (tiny R18 fixture, ONNX Runtime body stage)', () => {
  let out: Record<string, OnnxTensor>;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    const rcnn = buildDensePoseRcnn(fromConfig(JSON.parse(readFileSync(CONFIG, 'utf8'))));
    try {
      loadDetectron2(rcnn.model, `${D2}/densepose_rcnn_R_18_tiny_random.pkl`);
      const session = await createSession(exportStage(rcnn.model, stageDefinitions(rcnn).body));
      const inp = npy('detectron2/tensors/normalized_input.npy');
      out = await session.run({ image: { data: nchwToNhwc(inp.data, inp.shape), shape: [1, 480, 640, 3] } });
      await session.dispose();
    } finally {
      rcnn.model.dispose();
    }
  });

  for (const name of FPN_LEVELS) {
    it(`${name} within 1e-3 relative`, () => {
      const want = npy(`detectron2/tensors/${name}.npy`);
      const got = out[name]!;
      expect(got.shape).toEqual([1, want.shape[2], want.shape[3], want.shape[1]]);
      expect(relErr(got.data as Float32Array, nchwToNhwc(want.data, want.shape))).toBeLessThan(1e-3);
    });
  }
});
