import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DensePoseBranch } from '../../../src/model/densepose/branch.ts';
import { densePoseConfigFromJson } from '../../../src/model/densepose/config.ts';
import { exportStage } from '../../../src/infer/export-stages.ts';
import { densePoseStage } from '../../../src/infer/stages.ts';
import { seedInit } from '../../../src/runtime/layers.ts';
import { createSession } from '../../../src/runtime/onnx/session.ts';
import { TfExecutor } from '../../../src/runtime/tf-executor.ts';
import { SKIP_FIXTURE_TESTS, relErr } from '../helpers.ts';
import { loadD2Branch } from './d2-fixture.ts';

const ex = new TfExecutor();
beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function compareHead(branch: DensePoseBranch, pooled: tf.Tensor4D): Promise<void> {
  // the pipeline's one definition of the stage, exported as createDensePose exports it
  const session = await createSession(exportStage(branch, densePoseStage(branch)));
  try {
    const res = await session.run({ pooled: { data: pooled.dataSync() as Float32Array, shape: pooled.shape } });
    const ours = tf.tidy(() => Object.values(branch.forwardHead(ex, pooled)).map((t) => t.dataSync() as Float32Array));
    ['coarse_segm', 'fine_segm', 'u', 'v'].forEach((name, i) => expect(relErr(res[name]!.data as Float32Array, ours[i]!), name).toBeLessThan(1e-4));
  } finally {
    await session.dispose();
  }
}

describe('the densepose stage exported to ONNX equals tfjs, every head', () => {
  for (const f of ['r18_fpn_rcnn_head', 'r18_fpn_rcnn_head_aspp', 'r18_fpn_rcnn_head_aspp_88x64', 'r18_fpn_rcnn_head_aspp_88x64_stl']) {
    it(f, async () => {
      const cfg = densePoseConfigFromJson(JSON.parse(readFileSync(new URL(`../../../configs/densepose/${f}.json`, import.meta.url), 'utf8')), f);
      seedInit(21);
      const branch = new DensePoseBranch({ ...cfg, inChannels: 32, decoderConvDims: 32, decoderNumClasses: 32, convHeadDim: 32, numStackedConvs: 2 });
      // Non-trivial GN affine and biases, so that every parameter reaches the graph with its value.
      for (const [name, p] of branch.namedParameters()) if (name.endsWith('.bias')) p.assign(tf.randomNormal(p.shape, 0, 0.1));
      const [h, w] = cfg.poolerResolution;
      await compareHead(branch, tf.randomNormal([h > 28 ? 1 : 2, h, w, 32], 0, 1, 'float32', 3) as tf.Tensor4D);
      branch.dispose();
    });
  }

  it('DeepLab head (GN ASPP 6/12/56, GN convs)', async () => {
    seedInit(22);
    const branch = new DensePoseBranch({ preset: 'deeplab', inChannels: 32, decoderConvDims: 32, decoderNumClasses: 32, convHeadDim: 32, numStackedConvs: 2, poolerResolution: [14, 14] });
    await compareHead(branch, tf.randomNormal([3, 14, 14, 32], 0, 1, 'float32', 4) as tf.Tensor4D);
    branch.dispose();
  });

  // The decoder runs inside the body stage: detectron2 parity through createDensePose (test/model/create-densepose-parity.test.ts) covers it on both backends.
  it.skipIf(SKIP_FIXTURE_TESTS)('detectron2 fixture: head in ORT equals tfjs', async () => {
    const branch = loadD2Branch();
    await compareHead(branch, tf.randomNormal([2, 28, 28, 64], 0, 1, 'float32', 5) as tf.Tensor4D);
    branch.dispose();
  });
});
