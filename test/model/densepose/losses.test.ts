import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DensePoseTarget, densePoseLosses, planPoints, warpMaskToRoi } from '../../../src/model/densepose/losses.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// One RoI, 2×2 output grid, S 2 ch, I/U/V 3 ch (background + 2 charts). NHWC.
const coarse = [0.2, -0.1, 1.0, 0.5, -0.3, 0.4, 0.0, 0.0]; // [1,2,2,2]
const fine = [0.1, 0.5, -0.2, 0.3, 0.2, 0.9, -0.4, 0.0, 0.6, 0.8, -0.5, 0.1]; // [1,2,2,3]
const uu = [0.0, 0.3, 0.7, 0.1, 0.9, 2.6, 0.2, 0.2, 0.4, 0.5, 0.6, 0.8];
const vv = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1];
const at = (a: number[], y: number, x: number, c: number, C: number) => a[(y * 2 + x) * C + c]!;

function outputs() {
  return { coarseSegm: tf.tensor4d(coarse, [1, 2, 2, 2]), fineSegm: tf.tensor4d(fine, [1, 2, 2, 3]), u: tf.tensor4d(uu, [1, 2, 2, 3]), v: tf.tensor4d(vv, [1, 2, 2, 3]) };
}

const box = [0, 0, 4, 4];
const mask = new Uint8Array(256 * 256);
for (let y = 0; y < 256; y++) for (let x = 0; x < 128; x++) mask[y * 256 + x] = 3;
// Points: (x 64, y 0) → grid (0.5, 0): half of cell (0,0), half of (0,1); (255, 128) → clamped to cell (1,1);
// an I = 0 point at cell (1,0) (I loss only); a point outside the proposal (dropped).
const target: DensePoseTarget = {
  box,
  points: { x: Float32Array.from([64, 255, 0, 100]), y: Float32Array.from([0, 128, 192, 100]), i: Uint8Array.from([2, 1, 0, 1]), u: Float32Array.from([0.5, 0.25, 0, 0]), v: Float32Array.from([0.75, 0.5, 0, 0]) },
  masks: mask,
};
const proposal = Float32Array.from([0, 0, 4, 4]);

const ce = (logits: number[], label: number) => Math.log(logits.reduce((s, l) => s + Math.exp(l), 0)) - logits[label]!;
const sl1 = (d: number) => (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5);

describe('densePoseLosses', () => {
  it('plans bilinear taps as detectron2 (grid = (v − x0)·size/w, no half-pixel)', () => {
    const other: DensePoseTarget = { ...target, box: [0, 0, 8, 8] };
    const plan = planPoints(Float32Array.from([0, 0, 4, 4]), [other], 2, 2);
    // In an 8-px GT box, x = 100 → 3.125 px, inside the 4-px proposal; y = 192 → 6 px, outside.
    expect(plan.count).toBe(2);
    expect(Array.from(plan.i)).toEqual([2, 1]);
  });

  it('matches hand-computed S / I / U / V (2-channel S)', () => {
    const weights = { segm: 5, part: 1, points: 0.01 };
    const l = densePoseLosses(outputs(), proposal, [target], { numCoarseSegmChannels: 2, weights });
    // Points inside: p0 (taps (0,0),(0,1) ½ each), p1 (cell (1,1)), p2 (cell (1,0), I = 0); p3 is at 100/256·4 = 1.56 px — inside too.
    // p3: x = y = 1.5625 → grid 0.78125 → lo 0, hi 1, w .78125 both axes.
    const samp = (arr: number[], C: number, c: number, taps: [number, number, number][]) => taps.reduce((s, [y, x, w]) => s + w * at(arr, y, x, c, C), 0);
    const w3 = 0.78125;
    const tapsOf: [number, number, number][][] = [
      [[0, 0, 0.5], [0, 1, 0.5]],
      [[1, 1, 1]],
      [[1, 0, 1]],
      [[0, 0, (1 - w3) * (1 - w3)], [0, 1, w3 * (1 - w3)], [1, 0, (1 - w3) * w3], [1, 1, w3 * w3]],
    ];
    const labels = [2, 1, 0, 1];
    const iLoss = tapsOf.reduce((s, taps, j) => s + ce([0, 1, 2].map((c) => samp(fine, 3, c, taps)), labels[j]!), 0) / 4;
    const gtU = [0.5, 0.25, 0, 0];
    const gtV = [0.75, 0.5, 0, 0];
    const fgPts = [0, 1, 3];
    const uLoss = fgPts.reduce((s, j) => s + sl1(samp(uu, 3, labels[j]!, tapsOf[j]!) - gtU[j]!), 0) * 0.01;
    const vLoss = fgPts.reduce((s, j) => s + sl1(samp(vv, 3, labels[j]!, tapsOf[j]!) - gtV[j]!), 0) * 0.01;
    // Warped mask on the 2×2 grid: column 0 samples x = 0 (part 3), column 1 x = 127.5 → 128 (background).
    const sLabels = [1, 0, 1, 0];
    const sLoss = (sLabels.reduce((s, lab, c) => s + ce([coarse[2 * c]!, coarse[2 * c + 1]!], lab), 0) / 4) * 5;
    expect(l.I.dataSync()[0]).toBeCloseTo(iLoss, 5);
    expect(l.U.dataSync()[0]).toBeCloseTo(uLoss, 6);
    expect(l.V.dataSync()[0]).toBeCloseTo(vLoss, 6);
    expect(l.S.dataSync()[0]).toBeCloseTo(sLoss, 5);
    expect(l.total.dataSync()[0]).toBeCloseTo(iLoss + uLoss + vLoss + sLoss, 5);
  });

  it('15-channel S uses the part labels', () => {
    const c15 = Array.from({ length: 4 * 15 }, (_, i) => Math.sin(i));
    const out = { ...outputs(), coarseSegm: tf.tensor4d(c15, [1, 2, 2, 15]) };
    const l = densePoseLosses(out, proposal, [target], { numCoarseSegmChannels: 15, weights: { segm: 2, part: 0.3, points: 0.1 } });
    const sLabels = [3, 0, 3, 0];
    const hand = (sLabels.reduce((s, lab, c) => s + ce(c15.slice(15 * c, 15 * c + 15), lab), 0) / 4) * 2;
    expect(l.S.dataSync()[0]).toBeCloseTo(hand, 5);
  });

  it('warps masks with nearest sampling, zeros outside the GT box', () => {
    // RoI twice the GT box to the right: the right half of the grid lies outside → 0.
    const w = warpMaskToRoi(mask, [0, 0, 4, 4], [0, 0, 8, 4], 2, 4);
    expect(Array.from(w)).toEqual([3, 0, 0, 0, 3, 0, 0, 0]);
    const full = new Uint8Array(256 * 256).fill(7);
    // RoI x 2..6 over GT 0..4: grid x_norm 0, .5, 1, 1.5 → pixels 127.5, 191.25, 255 (align_corners: still inside), 318.75 (outside).
    expect(Array.from(warpMaskToRoi(full, [0, 0, 4, 4], [2, 0, 6, 4], 1, 4))).toEqual([7, 7, 7, 0]);
  });

  it('zero-loss fallback without annotations keeps the graph (zero gradients, no error)', () => {
    const out = outputs();
    const l = densePoseLosses(out, proposal, [null], { numCoarseSegmChannels: 2, weights: { segm: 5, part: 1, points: 0.01 } });
    expect(Array.from(l.total.dataSync())).toEqual([0]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => densePoseLosses({ coarseSegm: a, fineSegm: b, u: c, v: d }, proposal, [null], { numCoarseSegmChannels: 2, weights: { segm: 5, part: 1, points: 0.01 } }).total)([out.coarseSegm, out.fineSegm, out.u, out.v]);
    expect(g.every((t) => t.dataSync().every((x) => x === 0))).toBe(true);
  });

  it('rejects mismatched inputs', () => {
    expect(() => densePoseLosses(outputs(), proposal, [target, null], { numCoarseSegmChannels: 2, weights: { segm: 1, part: 1, points: 1 } })).toThrow(/2 targets/);
  });
});
