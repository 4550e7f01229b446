// Confidence heads (the zoo's WC1/WC2/…M models) against detectron2 itself: its
// DensePoseChartWithConfidencePredictor and densepose_chart_predictor_output_to_result_with_confidences
// on a tiny input (test/model/testdata/make_confidence_fixture.py), loaded strictly by detectron2's names.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chartOutputsToArrays, chartOutputsToResults } from '../../../src/model/densepose/postprocess.ts';
import { ChartPredictor } from '../../../src/model/densepose/predictor.ts';
import { initBackend } from '../../../src/runtime/backend.ts';
import { convertDetectron2StateDict } from '../../../src/runtime/checkpoint/detectron2.ts';
import { readNpy } from '../../../src/runtime/checkpoint/npy.ts';
import { readDetectron2Pkl } from '../../../src/runtime/checkpoint/pickle.ts';
import { toFloat32 } from '../../../src/runtime/checkpoint/ndarray.ts';
import { TfExecutor } from '../../../src/runtime/tf-executor.ts';
import { maxAbs, nchwToNhwc } from '../helpers.ts';

const DIR = 'test/model/testdata/confidence_fixture';
const f32 = (name: string) => {
  const a = readNpy(`${DIR}/${name}.npy`);
  return { shape: a.shape, data: toFloat32(a) };
};
const nhwc = (name: string) => {
  const a = f32(name);
  return nchwToNhwc(a.data, a.shape);
};

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('confidence heads against detectron2', () => {
  it('WC2M predictor: strict load by detectron2 names; every output and the per-box results with confidences match', async () => {
    const predictor = new ChartPredictor({ inChannels: 8, uvConfidence: 'indep_aniso', segmConfidence: true });
    const sd = readDetectron2Pkl(`${DIR}/predictor.pkl`);
    const { tensors } = convertDetectron2StateDict(sd);
    const state = new Map([...tensors].map(([k, v]) => [k.replace('roi_heads.densepose_predictor.', ''), { shape: v.shape, data: toFloat32(v) }]));
    const report = predictor.loadStateDict(state, { strict: true, source: 'predictor.pkl' });
    expect(report.loaded).toBe(18);

    const head = f32('head');
    const x = tf.tensor4d(nchwToNhwc(head.data, head.shape), [2, 4, 4, 8]);
    const out = predictor.forward(new TfExecutor(), x);
    const arrays = await chartOutputsToArrays(out, 0.01);
    tf.dispose([x, out.coarseSegm, out.fineSegm, out.u, out.v, ...Object.values(out.confidences ?? {})]);

    // detectron2's predictor outputs (fine/coarse already multiplied by their confidences)
    const close = (ours: Float32Array, ref: string, tol: number) => {
      const r = nhwc(ref);
      expect(ours.length, ref).toBe(r.length);
      const scale = Math.max(...r.map(Math.abs));
      expect(maxAbs(ours, r) / scale, ref).toBeLessThan(tol);
    };
    close(arrays.coarseSegm, 'coarse_segm', 1e-5);
    close(arrays.fineSegm, 'fine_segm', 1e-5);
    close(arrays.u, 'u', 1e-5);
    close(arrays.confidences!.sigma2!, 'sigma_2', 1e-5);
    close(arrays.confidences!.kappaU!, 'kappa_u', 1e-5);
    close(arrays.confidences!.kappaV!, 'kappa_v', 1e-5);
    close(arrays.confidences!.fineSegm!, 'fine_segm_confidence', 1e-5);
    close(arrays.confidences!.coarseSegm!, 'coarse_segm_confidence', 1e-5);

    const boxes = toFloat32(readNpy(`${DIR}/boxes.npy`));
    const results = chartOutputsToResults(arrays, boxes);
    results.forEach((r, i) => {
      const labels = readNpy(`${DIR}/box${i}_labels.npy`);
      expect([r.height, r.width]).toEqual(labels.shape);
      let same = 0;
      for (let k = 0; k < r.labels.length; k++) if (r.labels[k] === labels.data[k]) same++;
      expect(same / r.labels.length, `box ${i} labels`).toBeGreaterThan(0.999);
      expect(Object.keys(r.confidence!).sort()).toEqual(['coarseSegm', 'fineSegm', 'kappaU', 'kappaV', 'sigma2']);
      const names = { sigma2: 'sigma_2', kappaU: 'kappa_u', kappaV: 'kappa_v', fineSegm: 'fine_segm_confidence', coarseSegm: 'coarse_segm_confidence' } as const;
      for (const [ours, ref] of Object.entries(names)) {
        const want = toFloat32(readNpy(`${DIR}/box${i}_${ref}.npy`));
        const got = r.confidence![ours as keyof typeof names]!;
        // compare where the labels agree (a flipped label reads another chart's channel)
        let worst = 0;
        for (let k = 0; k < got.length; k++) if (r.labels[k] === labels.data[k]) worst = Math.max(worst, Math.abs(got[k]! - want[k]!));
        expect(worst, `box ${i} ${ref}`).toBeLessThan(1e-3);
      }
    });
  });

  it('WC1 has σ₂ only, models without confidence heads have none', () => {
    const wc1 = new ChartPredictor({ inChannels: 8, uvConfidence: 'iid_iso' });
    expect(wc1.namedParameters().map(([n]) => n).filter((n) => !/^(ann_index|index_uv|u|v)_lowres/.test(n))).toEqual(['sigma_2_lowres.weight', 'sigma_2_lowres.bias']);
    const plain = new ChartPredictor({ inChannels: 8 });
    const x = tf.zeros([1, 2, 2, 8]);
    const out = plain.forward(new TfExecutor(), x);
    expect(out.confidences).toBeUndefined();
    tf.dispose([x, out.coarseSegm, out.fineSegm, out.u, out.v]);
    wc1.dispose();
    plain.dispose();
  });
});
