import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DensePoseBranch } from '../../../src/model/densepose/branch.ts';
import { estimateDensePose } from '../../../src/model/densepose/estimate.ts';
import { type ChartArrays, chartOutputsToArrays, chartOutputsToResults } from '../../../src/model/densepose/postprocess.ts';
import { TfExecutor } from '../../../src/runtime/tf-executor.ts';
import { SKIP_FIXTURE_TESTS, nchwToNhwc, npy, relErr } from '../helpers.ts';
import { loadD2Branch, nhwcTensor } from './d2-fixture.ts';

const ex = new TfExecutor();

describe.skipIf(SKIP_FIXTURE_TESTS)('DensePose branch vs detectron2 (R18 tiny fixture)', () => {
  let branch: DensePoseBranch;
  let fpn: tf.Tensor4D[];
  let boxes: Float32Array;
  let arrays: ChartArrays;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    branch = loadD2Branch();
    fpn = ['p2', 'p3', 'p4', 'p5'].map(nhwcTensor);
    boxes = npy('detectron2/boxes_xyxy.npy').data;
  });

  it('decoder output and pooled features', () => {
    const ref = npy('detectron2/tensors/decoder_out.npy');
    const pooledRef = npy('detectron2/tensors/pooled.npy');
    tf.tidy(() => {
      const [dec] = branch.poolingMaps(ex, fpn) as tf.Tensor4D[];
      expect(relErr(dec!.dataSync(), nchwToNhwc(ref.data, ref.shape))).toBeLessThan(1e-3);
      const pooled = branch.pool([dec!], boxes);
      expect(pooled.shape).toEqual([2, 28, 28, 64]);
      expect(relErr(pooled.dataSync(), nchwToNhwc(pooledRef.data, pooledRef.shape))).toBeLessThan(1e-3);
    });
  });

  it('coarse_segm / fine_segm / u / v', async () => {
    const out = tf.tidy(() => ({ ...branch.forward(ex, fpn, boxes) }));
    arrays = await chartOutputsToArrays(out);
    tf.dispose(Object.values(out));
    expect([arrays.count, arrays.height, arrays.width, arrays.segmChannels, arrays.patchChannels]).toEqual([2, 112, 112, 2, 25]);
    for (const [name, ours] of [['coarse_segm', arrays.coarseSegm], ['fine_segm', arrays.fineSegm], ['u', arrays.u], ['v', arrays.v]] as const) {
      const ref = npy(`detectron2/tensors/${name}.npy`);
      expect(relErr(ours, nchwToNhwc(ref.data, ref.shape)), name).toBeLessThan(1e-3);
    }
  });

  it('post-processed labels, U/V and quantised IUV per box', () => {
    const results = chartOutputsToResults(arrays, boxes);
    results.forEach((r, b) => {
      const labels = npy(`detectron2/box${b}_labels.npy`);
      const uv = npy(`detectron2/box${b}_uv.npy`);
      const iuv = npy(`detectron2/box${b}_iuv_uint8.npy`);
      expect([r.height, r.width]).toEqual(labels.shape);
      const n = r.width * r.height;
      let same = 0;
      let uvErr = 0;
      let fg = 0;
      for (let i = 0; i < n; i++) {
        if (r.labels[i] === labels.data[i]) {
          same++;
          uvErr = Math.max(uvErr, Math.abs(r.u[i]! - uv.data[i]!), Math.abs(r.v[i]! - uv.data[n + i]!));
        }
        if (labels.data[i]! > 0) fg++;
      }
      expect(fg / n, 'fixture has foreground').toBeGreaterThan(0.05);
      expect(same / n).toBeGreaterThanOrEqual(0.999);
      expect(uvErr).toBeLessThan(1e-3);
      const q = r.toIUV();
      let qSame = 0;
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) if (Math.abs(q[3 * i + c]! - iuv.data[c * n + i]!) <= (c === 0 ? 0 : 1)) qSame++;
      expect(qSame / (3 * n)).toBeGreaterThanOrEqual(0.999);
    });
  });

  it('estimateDensePose: clipping, skipping, empty input, no leaks', async () => {
    const before = tf.memory().numTensors;
    const empty = await estimateDensePose(branch, ex, fpn, new Float32Array(0), { imageSize: [480, 640] });
    expect(empty).toEqual({ results: [], skipped: 0 });
    const b0 = Array.from(boxes.subarray(0, 4));
    const input = Float32Array.from([...b0, 10, 10, 10, 50, -20, 100, 700, 300, 700, 10, 800, 50]);
    const est = await estimateDensePose(branch, ex, fpn, input, { imageSize: [480, 640] });
    expect(est.skipped).toBe(2);
    expect(est.results[1]).toBeNull();
    expect(est.results[3]).toBeNull();
    expect(est.results[2]!.width).toBe(640);
    expect(est.results[2]!.height).toBe(200);
    const ref = npy('detectron2/box0_labels.npy');
    expect(Array.from(est.results[0]!.labels.slice(0, 2000))).toEqual(Array.from(ref.data.slice(0, 2000)));
    expect(tf.memory().numTensors).toBe(before);
  });
});
