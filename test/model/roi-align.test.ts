import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { assignFpnLevels, roiAlign, roiAlignArrays, roiAlignMultiLevel, roiAlignOps } from '../../src/model/roi-align.ts';
import { DensePoseError } from '../../src/errors.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS, maxAbs, nchwToNhwc, npy } from './helpers.ts';

interface Case {
  file: string;
  output_size_hw: [number, number];
  sampling_ratio: number;
  aligned: boolean;
  spatial_scale: number;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(SKIP_FIXTURE_TESTS)('roiAlign vs torchvision goldens', () => {
  const cases = !SKIP_FIXTURE_TESTS ? (JSON.parse(readFileSync(`${FIXTURES}/roi_align/cases.json`, 'utf8')) as { cases: Case[] }).cases : [];
  it('covers every golden file', () => {
    expect(cases.length).toBe(24);
  });
  for (const cs of cases) {
    it(cs.file, () => {
      const f = npy('roi_align/features_nchw.npy');
      const boxes = npy('roi_align/boxes_xyxy.npy').data;
      const feats = tf.tensor4d(nchwToNhwc(f.data, f.shape), [1, f.shape[2]!, f.shape[3]!, f.shape[1]!]);
      const gold = npy(`roi_align/${cs.file}`);
      const opts = { outputSize: cs.output_size_hw, spatialScale: cs.spatial_scale, samplingRatio: cs.sampling_ratio, aligned: cs.aligned };
      const out = roiAlign(feats, boxes, opts);
      const want = nchwToNhwc(gold.data, gold.shape);
      expect(out.shape).toEqual([6, cs.output_size_hw[0], cs.output_size_hw[1], 8]);
      expect(maxAbs(out.dataSync(), want)).toBeLessThan(1e-4);
      const viaOps = roiAlignOps(feats, boxes, opts);
      expect(maxAbs(viaOps.dataSync(), want)).toBeLessThan(1e-4);
      tf.dispose([feats, out, viaOps]);
    });
  }
});

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

describe('roiAlign gradient', () => {
  const shape = [1, 6, 7, 3] as const;
  const boxes = new Float32Array([0.3, 0.7, 9.1, 11.4, -3, -2, 4.5, 5, 5.2, 1.1, 6.0, 2.3]);
  for (const aligned of [true, false]) {
    for (const samplingRatio of [0, 2]) {
      it(`matches finite differences (aligned=${aligned}, sr=${samplingRatio})`, () => {
        const opts = { outputSize: [3, 2] as const, spatialScale: 0.5, samplingRatio, aligned };
        const x = randomArray(6 * 7 * 3, 7);
        const r = randomArray(3 * 3 * 2 * 3, 11);
        // loss = <r, roiAlign(x)>: its gradient is the backward applied to r.
        const loss = (xs: tf.Tensor) => tf.sum(tf.mul(roiAlign(xs as tf.Tensor4D, boxes, opts), tf.tensor4d(r, [3, 3, 2, 3])));
        const g = tf.grad(loss)(tf.tensor4d(x, [...shape])).dataSync();
        const gOps = tf.grad((xs: tf.Tensor) => tf.sum(tf.mul(roiAlignOps(xs as tf.Tensor4D, boxes, opts), tf.tensor4d(r, [3, 3, 2, 3]))))(tf.tensor4d(x, [...shape])).dataSync();
        const f = (v: Float32Array) => {
          const y = roiAlignArrays(v, shape, boxes, opts);
          let s = 0;
          for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
          return s;
        };
        const eps = 1e-2;
        let nonZero = 0;
        for (let i = 0; i < x.length; i++) {
          const p = Float32Array.from(x);
          const m = Float32Array.from(x);
          p[i]! += eps;
          m[i]! -= eps;
          const fd = (f(p) - f(m)) / (2 * eps);
          expect(Math.abs(fd - g[i]!)).toBeLessThan(1e-3);
          expect(Math.abs(gOps[i]! - g[i]!)).toBeLessThan(1e-5);
          if (Math.abs(g[i]!) > 1e-3) nonZero++;
        }
        expect(nonZero).toBeGreaterThan(10);
      });
    }
  }
});

describe('FPN level assignment and multi-level pooling', () => {
  it('assigns by sqrt(area) with canonical 224 at level 4', () => {
    // sides 16, 112, 224, 447, 448, 2000 → levels 2(clamped), 3, 4, 4, 5, 5(clamped)
    const sides = [16, 112, 224, 447, 448, 2000];
    const boxes = new Float32Array(sides.flatMap((s) => [10, 10, 10 + s, 10 + s]));
    expect([...assignFpnLevels(boxes)]).toEqual([0, 1, 2, 2, 3, 3]);
  });
  it('pools each box from its level and keeps box order', () => {
    const levels = [0, 1, 2, 3].map((l) => tf.tensor4d(randomArray(((64 >> l) ** 2) * 2, l + 1), [1, 64 >> l, 64 >> l, 2]));
    const scales = [1 / 4, 1 / 8, 1 / 16, 1 / 32];
    const boxes = new Float32Array([0, 0, 200, 200, 10, 10, 40, 40, 30, 20, 250, 240]);
    const opts = { outputSize: [4, 4] as const, samplingRatio: 2, aligned: true };
    const out = roiAlignMultiLevel(levels, boxes, { ...opts, scales });
    const lv = assignFpnLevels(boxes);
    for (let k = 0; k < 3; k++) {
      const single = roiAlign(levels[lv[k]!]!, boxes.subarray(4 * k, 4 * k + 4), { ...opts, spatialScale: scales[lv[k]!]! });
      expect(maxAbs(tf.slice(out, [k, 0, 0, 0], [1, 4, 4, 2]).dataSync(), single.dataSync())).toBe(0);
    }
    expect(new Set(lv).size).toBeGreaterThan(1);
  });
  it('batched: batchIndices picks the image', () => {
    const a = randomArray(5 * 5 * 2, 3);
    const b = randomArray(5 * 5 * 2, 4);
    const both = tf.tensor4d(Float32Array.from([...a, ...b]), [2, 5, 5, 2]);
    const box = new Float32Array([1, 1, 4, 4, 1, 1, 4, 4]);
    const out = roiAlign(both, box, { outputSize: [2, 2], spatialScale: 1, batchIndices: new Int32Array([1, 0]) }).dataSync();
    const one = (d: Float32Array) => roiAlignArrays(d, [1, 5, 5, 2], box.subarray(0, 4), { outputSize: [2, 2], spatialScale: 1 });
    expect(maxAbs(out.subarray(0, 8), one(b))).toBe(0);
    expect(maxAbs(out.subarray(8), one(a))).toBe(0);
  });
  it('rejects bad options with a clear error', () => {
    const f = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => roiAlign(f, new Float32Array(4), { outputSize: [0, 7], spatialScale: 1 })).toThrow(DensePoseError);
    expect(() => roiAlign(f, new Float32Array(5), { outputSize: [7, 7], spatialScale: 1 })).toThrow(/multiple of 4/);
  });
});
