// Dense DensePose targets (docs/dense-targets.md): the losses over every foreground cell against a hand
// computation, mixing with sparse points in one call, and gradients against float64 finite differences.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '../../../src/runtime/gradients.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DenseIuv } from '../../../src/data/dense-iuv.ts';
import { DENSE_POINTS_PER_ROI, type DensePlan, type DensePoseTarget, densePoseLosses, planDense } from '../../../src/model/densepose/losses.ts';
import { type F64, f64, finiteDiff, randomF64, relError } from '../../../src/runtime/ops/gradcheck.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ce = (logits: number[], label: number) => Math.log(logits.reduce((s, l) => s + Math.exp(l), 0)) - logits[label]!;
const sl1 = (d: number) => (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5);
const W = { segm: 5, part: 1, points: 0.01 };

// One RoI equal to its GT box [0,0,4,4], 2×2 grid, S 2 channels, I/U/V 3 channels. NHWC.
const coarse = [0.2, -0.1, 1.0, 0.5, -0.3, 0.4, 0.0, 0.0];
const fine = [0.1, 0.5, -0.2, 0.3, 0.2, 0.9, -0.4, 0.0, 0.6, 0.8, -0.5, 0.1];
const uu = [0.0, 0.3, 0.7, 0.1, 0.9, 2.6, 0.2, 0.2, 0.4, 0.5, 0.6, 0.8];
const vv = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1];
const outputs = () => ({ coarseSegm: tf.tensor4d(coarse, [1, 2, 2, 2]), fineSegm: tf.tensor4d(fine, [1, 2, 2, 3]), u: tf.tensor4d(uu, [1, 2, 2, 3]), v: tf.tensor4d(vv, [1, 2, 2, 3]) });
const dense: DenseIuv = {
  width: 2,
  height: 2,
  i: Uint8Array.from([2, 0, 1, 2]),
  u: Float32Array.from([0.5, 0, 0.25, 1]),
  v: Float32Array.from([0.75, 0, 0.5, 0.1]),
  confidence: Float32Array.from([1, 0.5, 0.8, 0.6]),
};
const proposal = Float32Array.from([0, 0, 4, 4]);
const denseTarget: DensePoseTarget = { box: [0, 0, 4, 4], dense };

describe('dense DensePose targets', () => {
  it('losses equal a hand computation (confidence-weighted, every foreground cell)', () => {
    const l = densePoseLosses(outputs(), proposal, [denseTarget], { numCoarseSegmChannels: 2, weights: W });
    const fg = [0, 2, 3];
    const conf = dense.confidence!;
    const pw = (c: number) => (conf[c]! * DENSE_POINTS_PER_ROI) / fg.length;
    const I = fg.reduce((s, c) => s + pw(c) * ce(fine.slice(3 * c, 3 * c + 3), dense.i[c]!), 0) / fg.reduce((s, c) => s + pw(c), 0);
    const U = 0.01 * fg.reduce((s, c) => s + pw(c) * sl1(uu[3 * c + dense.i[c]!]! - dense.u[c]!), 0);
    const V = 0.01 * fg.reduce((s, c) => s + pw(c) * sl1(vv[3 * c + dense.i[c]!]! - dense.v[c]!), 0);
    const sLab = [1, 0, 1, 1];
    const S = (5 * [0, 1, 2, 3].reduce((s, c) => s + conf[c]! * ce(coarse.slice(2 * c, 2 * c + 2), sLab[c]!), 0)) / [0, 1, 2, 3].reduce((s, c) => s + conf[c]!, 0);
    expect(l.I.dataSync()[0]).toBeCloseTo(I, 5);
    expect(l.U.dataSync()[0]).toBeCloseTo(U, 5);
    expect(l.V.dataSync()[0]).toBeCloseTo(V, 5);
    expect(l.S.dataSync()[0]).toBeCloseTo(S, 5);
    expect(l.total.dataSync()[0]).toBeCloseTo(I + U + V + S, 4);
  });

  it('plans cells from the map pixel under each cell centre; outside the GT box is background', () => {
    // 4×4 map over GT [0,0,4,4]; RoI [0,0,8,4] on a 2×4 grid: cell centres x = 1,3,5,7 → map cols 1, 3, outside, outside.
    const map: DenseIuv = { width: 4, height: 4, i: Uint8Array.from({ length: 16 }, (_, k) => 1 + (k % 24)), u: new Float32Array(16).fill(0.5), v: new Float32Array(16).fill(0.25), confidence: null };
    const plan = planDense(Float32Array.from([0, 0, 8, 4]), [{ box: [0, 0, 4, 4], dense: map }], 2, 4, 15);
    // rows: centres y = 1, 3 → map rows 1, 3
    expect(Array.from(plan.part)).toEqual([6, 8, 0, 0, 14, 16, 0, 0]);
    // 15-channel S: the coarse part of each (fine 6 → 5 right foot, 8 → 7, 14 → 9, 16 → 11)
    expect(Array.from(plan.segmLabel)).toEqual([5, 7, 0, 0, 9, 11, 0, 0]);
    expect(Array.from(plan.segmWeight)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(plan.pointWeight)).toEqual([25, 25, 0, 0, 25, 25, 0, 0]);
    expect(plan.foreground).toBe(4);
  });

  it('a mixed batch (sparse points + dense) is the weighted sum of both kinds', () => {
    const mask = new Uint8Array(256 * 256);
    for (let y = 0; y < 256; y++) for (let x = 0; x < 128; x++) mask[y * 256 + x] = 3;
    const sparse: DensePoseTarget = {
      box: [0, 0, 4, 4],
      points: { x: Float32Array.from([64, 255, 100]), y: Float32Array.from([0, 128, 100]), i: Uint8Array.from([2, 1, 1]), u: Float32Array.from([0.5, 0.25, 0]), v: Float32Array.from([0.75, 0.5, 0]) },
      masks: mask,
    };
    const two = () => {
      const o = outputs();
      return { coarseSegm: tf.concat([o.coarseSegm, tf.reverse(o.coarseSegm, 3)]), fineSegm: tf.concat([o.fineSegm, tf.mul(o.fineSegm, 2)]), u: tf.concat([o.u, o.u]), v: tf.concat([o.v, tf.add(o.v, 0.1)]) };
    };
    const both = two();
    const props = Float32Array.from([0, 0, 4, 4, 0, 0, 4, 4]);
    const mixed = densePoseLosses(both, props, [sparse, denseTarget], { numCoarseSegmChannels: 2, weights: W });
    const onlySparse = densePoseLosses(both, props, [sparse, null], { numCoarseSegmChannels: 2, weights: W });
    const onlyDense = densePoseLosses(both, props, [null, denseTarget], { numCoarseSegmChannels: 2, weights: W });
    const x = (t: tf.Tensor) => t.dataSync()[0]!;
    const wDense = (DENSE_POINTS_PER_ROI * (1 + 0.8 + 0.6)) / 3;
    expect(x(mixed.I)).toBeCloseTo((3 * x(onlySparse.I) + wDense * x(onlyDense.I)) / (3 + wDense), 5);
    expect(x(mixed.U)).toBeCloseTo(x(onlySparse.U) + x(onlyDense.U), 5);
    const sDense = 1 + 0.5 + 0.8 + 0.6;
    expect(x(mixed.S)).toBeCloseTo((4 * x(onlySparse.S) + sDense * x(onlyDense.S)) / (4 + sDense), 5);
    // and both kinds reach the gradients: rows 0 (sparse) and 1 (dense) of every output
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => densePoseLosses({ coarseSegm: a, fineSegm: b, u: c, v: d }, props, [sparse, denseTarget], { numCoarseSegmChannels: 2, weights: W }).total)([both.coarseSegm, both.fineSegm, both.u, both.v]);
    for (const t of g) for (const row of tf.split(t, 2)) expect(tf.sum(tf.abs(row)).dataSync()[0]).toBeGreaterThan(0);
  });

  it('gradients of the dense terms match float64 finite differences', () => {
    // 2 RoIs on a 3×3 grid, 15-channel S, 25-channel I/U/V; the second RoI is shifted off its GT box.
    const [h, w, s, p] = [3, 3, 15, 25];
    const mk = (seed: number, n: number): DenseIuv => {
      const i = Uint8Array.from({ length: n * n }, (_, k) => ((k * 7 + seed) % 5 === 0 ? 0 : 1 + ((k * 11 + seed) % 24)));
      return { width: n, height: n, i, u: Float32Array.from(i, (x, k) => (x ? ((k * 37 + seed) % 100) / 100 : 0)), v: Float32Array.from(i, (x, k) => (x ? ((k * 53 + seed) % 100) / 100 : 0)), confidence: Float32Array.from(i, (_, k) => 0.3 + ((k * 13 + seed) % 7) / 10) };
    };
    const targets: DensePoseTarget[] = [{ box: [0, 0, 6, 6], dense: mk(1, 3) }, { box: [2, 1, 8, 9], dense: mk(2, 5) }];
    const props = Float32Array.from([0, 0, 6, 6, 3, 0, 9, 7]);
    const plan = planDense(props, targets, h, w, s);
    const ins = [randomF64([2, h, w, s], 1), randomF64([2, h, w, p], 2), randomF64([2, h, w, p], 3), randomF64([2, h, w, p], 4)];
    ins[2]!.data.forEach((x, k) => (ins[2]!.data[k] = 2 * x)); // some |Δu| > 1: both smooth-L1 branches
    const ref = (x: F64[]) => f64([1], [refDenseTotal(x, plan, { h, w, s, p })]);
    const tfIns = ins.map((t) => tf.tensor(Float32Array.from(t.data), t.shape));
    const lossOf = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => densePoseLosses({ coarseSegm: a, fineSegm: b, u: c, v: d }, props, targets, { numCoarseSegmChannels: s, weights: W }).total;
    expect(lossOf(tfIns[0]!, tfIns[1]!, tfIns[2]!, tfIns[3]!).dataSync()[0]).toBeCloseTo(ref(ins).data[0]!, 4);
    const grads = tf.grads(lossOf)(tfIns);
    for (let k = 0; k < 4; k++) {
      const fd = finiteDiff(ref, ins, k, f64([1], [1]), 1e-4);
      expect(relError(grads[k]!.dataSync(), fd.data)).toBeLessThan(2e-3);
    }
  });
});

/** Plain-loop float64 total loss of dense targets only (weights W), from the plan. */
function refDenseTotal(x: F64[], plan: DensePlan, d: { h: number; w: number; s: number; p: number }): number {
  const [coarseT, fineT, uT, vT] = x as [F64, F64, F64, F64];
  const cells = plan.rois.length * d.h * d.w;
  const logSoftmax = (a: Float64Array, off: number, n: number, label: number) => {
    let m = -Infinity;
    for (let c = 0; c < n; c++) m = Math.max(m, a[off + c]!);
    let z = 0;
    for (let c = 0; c < n; c++) z += Math.exp(a[off + c]! - m);
    return a[off + label]! - m - Math.log(z);
  };
  let iSum = 0, iW = 0, uSum = 0, vSum = 0, sSum = 0, sW = 0;
  for (let cell = 0; cell < cells; cell++) {
    const roi = plan.rois[Math.floor(cell / (d.h * d.w))]!;
    const at = roi * d.h * d.w + (cell % (d.h * d.w));
    sSum -= plan.segmWeight[cell]! * logSoftmax(coarseT.data, at * d.s, d.s, plan.segmLabel[cell]!);
    sW += plan.segmWeight[cell]!;
    const part = plan.part[cell]!;
    if (!part) continue;
    const pw = plan.pointWeight[cell]!;
    iSum -= pw * logSoftmax(fineT.data, at * d.p, d.p, part);
    iW += pw;
    uSum += pw * sl1(uT.data[at * d.p + part]! - plan.u[cell]!);
    vSum += pw * sl1(vT.data[at * d.p + part]! - plan.v[cell]!);
  }
  return W.part * (iSum / iW) + W.points * (uSum + vSum) + W.segm * (sSum / sW);
}
