import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DensePoseBranch } from '../../../src/model/densepose/branch.ts';
import { densePoseConfigFromJson } from '../../../src/model/densepose/config.ts';
import { exportDensePoseOnnx } from '../../../src/model/densepose/onnx.ts';
import { seedInit } from '../../../src/runtime/layers.ts';
import { createSession } from '../../../src/runtime/onnx/session.ts';
import { TfExecutor } from '../../../src/runtime/tf-executor.ts';
import { SKIP_FIXTURE_TESTS, relErr } from '../helpers.ts';
import { loadD2Branch, nhwcTensor } from './d2-fixture.ts';

const ex = new TfExecutor();
beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function compareHead(branch: DensePoseBranch, pooled: tf.Tensor4D): Promise<void> {
  const { head } = exportDensePoseOnnx(branch);
  const session = await createSession(head);
  try {
    const res = await session.run({ pooled: { data: pooled.dataSync() as Float32Array, shape: pooled.shape } });
    const ours = tf.tidy(() => Object.values(branch.forwardHead(ex, pooled)).map((t) => t.dataSync() as Float32Array));
    ['coarse_segm', 'fine_segm', 'u', 'v'].forEach((name, i) => expect(relErr(res[name]!.data as Float32Array, ours[i]!), name).toBeLessThan(1e-4));
  } finally {
    await session.dispose();
  }
}

describe('ONNX export of every head equals tfjs', () => {
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

  it.skipIf(SKIP_FIXTURE_TESTS)('detectron2 fixture: decoder and head in ORT equal tfjs', async () => {
    const branch = loadD2Branch();
    const { decoder } = exportDensePoseOnnx(branch);
    const fpn = ['p2', 'p3', 'p4', 'p5'].map(nhwcTensor);
    const session = await createSession(decoder!);
    const res = await session.run(Object.fromEntries(fpn.map((t, i) => [`p${i + 2}`, { data: t.dataSync() as Float32Array, shape: t.shape }])));
    await session.dispose();
    const ours = tf.tidy(() => branch.decoder!.forward(ex, fpn).dataSync());
    expect(relErr(res['decoder_out']!.data as Float32Array, ours)).toBeLessThan(1e-4);
    await compareHead(branch, tf.randomNormal([2, 28, 28, 64], 0, 1, 'float32', 5) as tf.Tensor4D);
  });
});
