// FrozenBN calibration (the init of FrozenBN backbones trained from random weights): after it, every frozen
// layer standardises its input on the calibration image, each seeing the calibrated layers before it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrateFrozenBatchNorm } from '../../src/model/calibrate-frozen-bn.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../../src/model/densepose-rcnn.ts';
import type { FrozenBatchNormParams } from '../../src/runtime/executor.ts';
import { seedInit } from '../../src/runtime/layers.ts';
import { TfExecutor } from '../../src/runtime/tf-executor.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Per-channel mean and variance of every FrozenBN output in one backbone forward. */
function frozenOutputs(rcnn: ReturnType<typeof buildDensePoseRcnn>, image: tf.Tensor4D): { mean: number; var: number }[][] {
  const stats: { mean: number; var: number }[][] = [];
  const ex = new (class extends TfExecutor {
    override frozenBatchNorm(x: tf.Tensor, bn: FrozenBatchNormParams): tf.Tensor {
      const y = super.frozenBatchNorm(x, bn);
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      const m = mean.dataSync();
      const v = variance.dataSync();
      stats.push([...m].map((mm, c) => ({ mean: mm, var: v[c]! })));
      return y;
    }
  })();
  tf.tidy(() => {
    rcnn.model.backbone.forward<tf.Tensor>(ex, image);
  });
  return stats;
}

describe('calibrateFrozenBatchNorm', () => {
  it('sets every FrozenBN so that its output is standardised on the calibration image, layer after layer', () => {
    seedInit(5);
    const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(resolve('configs/test/tiny.json')));
    const image = tf.randomNormal([1, 64, 96, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const before = frozenOutputs(rcnn, image);
    // Uncalibrated (identity) FrozenBN: the residual stages blow the scale up.
    expect(Math.max(...before.at(-1)!.map((s) => s.var))).toBeGreaterThan(4);
    const layers = calibrateFrozenBatchNorm(rcnn.model.backbone, image);
    expect(layers).toBe(before.length);
    const after = frozenOutputs(rcnn, image);
    for (const layer of after) {
      for (const s of layer) {
        expect(Math.abs(s.mean)).toBeLessThan(1e-3);
        // Channels dead on this image (variance 0 → eps) stay 0; others have variance 1 (up to eps).
        if (s.var > 1e-3) expect(Math.abs(s.var - 1)).toBeLessThan(1e-2);
      }
    }
    image.dispose();
    rcnn.model.dispose();
  });
});
