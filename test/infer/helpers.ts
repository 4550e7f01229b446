// Tiny random-weight models and synthetic images for the inference tests (no trained model needed).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fromConfig, type ModelConfig } from '../../src/model/config.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig, type DensePoseRcnn } from '../../src/model/densepose-rcnn.ts';
import { saveModel } from '../../src/infer/model-file.ts';
import { initBackend } from '../../src/runtime/backend.ts';

export const TINY_CONFIG_PATH = 'configs/densepose_rcnn_R_18_tiny_fixture.json';

/** The tiny fixture config shrunk for speed: small inputs, few proposals, a short DensePose head. */
export function tinyConfig(): ModelConfig {
  const c = loadDensePoseRcnnConfig(TINY_CONFIG_PATH);
  return fromConfig({
    ...c,
    name: 'tiny-test',
    rpn: { ...c.rpn, test: { preNmsTopK: 200, postNmsTopK: 40 } },
    roiHeads: { ...c.roiHeads, detectionsPerImage: 4 },
    input: { ...c.input, minSizeTest: 96, maxSizeTest: 160 },
    densepose: { ...c.densepose, numStackedConvs: 2, poolerResolution: [14, 14] },
  });
}

/**
 * A random model whose biases make people certain: person logit +6 over background in the box head,
 * foreground +4 in the coarse segmentation, so every run has detections with non-empty maps.
 */
export function biasedModel(config = tinyConfig()): DensePoseRcnn {
  const rcnn = buildDensePoseRcnn(config);
  const params = new Map(rcnn.model.namedParameters());
  params.get('roi_heads.box_predictor.cls_score.bias')!.assign(tf.tensor1d([6, 0]));
  params.get('roi_heads.densepose_predictor.ann_index_lowres.bias')!.assign(tf.tensor1d([-4, 4]));
  return rcnn;
}

let cached: Promise<string> | undefined;
/** Path of a saved {@link biasedModel} model file (made once per test process). */
export function tinyModelFile(): Promise<string> {
  cached ??= (async () => {
    await initBackend({ backend: 'cpu' });
    const dir = mkdtempSync(join(tmpdir(), 'dp-infer-model-'));
    const path = join(dir, 'tiny.safetensors');
    const rcnn = biasedModel();
    await saveModel(path, rcnn);
    rcnn.model.dispose();
    return path;
  })();
  return cached;
}

/** A deterministic RGB test image: a gradient with a few coloured blobs (people-sized rectangles). */
export function syntheticImage(width: number, height: number, seed = 1): { width: number; height: number; data: Uint8Array } {
  let s = seed;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 3 * (y * width + x);
      data[o] = (x * 255) / width;
      data[o + 1] = (y * 255) / height;
      data[o + 2] = 96;
    }
  }
  for (let k = 0; k < 3; k++) {
    const w = Math.max(4, Math.floor(width * (0.15 + 0.15 * rnd())));
    const h = Math.max(8, Math.floor(height * (0.4 + 0.3 * rnd())));
    const x0 = Math.floor(rnd() * (width - w));
    const y0 = Math.floor(rnd() * (height - h));
    const col = [rnd() * 255, rnd() * 255, rnd() * 255];
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data.set(col, 3 * (y * width + x));
  }
  return { width, height, data };
}
