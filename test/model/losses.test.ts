import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchPredictions, subsampleLabels } from '../../src/model/matcher.ts';
import { bceWithLogitsSum, boxHeadLosses, crossEntropyMean, rpnLosses, rpnTargets, sampleRois, smoothL1Sum } from '../../src/model/losses.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('matcher', () => {
  it('labels by IoU bands and promotes each GT\'s best anchors (RPN)', () => {
    // 2 GT × 5 anchors
    const iou = new Float32Array([
      0.1, 0.75, 0.5, 0.2, 0.0,
      0.05, 0.3, 0.65, 0.29, 0.1,
    ]);
    const r = matchPredictions(iou, 2, 5, { thresholds: [0.3, 0.7], labels: [0, -1, 1], allowLowQualityMatches: true });
    expect([...r.matches]).toEqual([0, 0, 1, 1, 1]);
    // anchor 2 is GT 1's best (0.65): low-quality positive; anchor 1 ≥ 0.7; anchor 3 max 0.29 < 0.3 → 0
    expect([...r.labels]).toEqual([0, 1, 1, 0, 0]);
    const strict = matchPredictions(iou, 2, 5, { thresholds: [0.3, 0.7], labels: [0, -1, 1] });
    expect([...strict.labels]).toEqual([0, 1, -1, 0, 0]);
  });
  it('no GT: everything background', () => {
    expect([...matchPredictions(new Float32Array(0), 0, 3, { thresholds: [0.5], labels: [0, 1] }).labels]).toEqual([0, 0, 0]);
  });
  it('samples 256 with at most half positive, no repeats', () => {
    const labels = new Int8Array(1000);
    for (let i = 0; i < 10; i++) labels[i * 7] = 1;
    labels[500] = -1;
    const few = subsampleLabels(labels, 256, 0.5, 0, lcg(1));
    expect(few.positive.length).toBe(10);
    expect(few.negative.length).toBe(246);
    expect(new Set(few.negative).size).toBe(246);
    expect([...few.negative].every((i) => labels[i] === 0)).toBe(true);
    labels.fill(1, 0, 300);
    const many = subsampleLabels(labels, 256, 0.5, 0, lcg(2));
    expect([many.positive.length, many.negative.length]).toEqual([128, 128]);
    expect([...many.positive].every((i) => labels[i] === 1)).toBe(true);
  });
});

describe('loss functions', () => {
  it('smooth-L1: L1 at beta 0, quadratic inside beta', () => {
    const p = tf.tensor1d([0.5, -2, 1]);
    const t = tf.tensor1d([0, 0, 1]);
    expect(smoothL1Sum(p, t, 0).dataSync()[0]).toBeCloseTo(2.5, 6);
    expect(smoothL1Sum(p, t, 1).dataSync()[0]).toBeCloseTo(0.125 + 1.5, 6);
  });
  it('BCE with logits equals −[y log σ + (1−y) log(1−σ)], stable for large logits', () => {
    const x = [-3, 0.2, 4, 50];
    const y = [0, 1, 1, 0];
    const want = x.reduce((s, xi, i) => {
      const sg = 1 / (1 + Math.exp(-xi));
      return s - (y[i]! * Math.log(sg) + (1 - y[i]!) * (xi > 30 ? -xi : Math.log(1 - sg)));
    }, 0);
    expect(bceWithLogitsSum(tf.tensor1d(x), tf.tensor1d(y)).dataSync()[0]).toBeCloseTo(want, 4);
  });
  it('cross-entropy is the mean of −log softmax at the label', () => {
    const l = tf.tensor2d([[0, Math.log(3)], [Math.log(2), 0]]);
    const want = (-Math.log(3 / 4) - Math.log(2 / 3)) / 2;
    expect(crossEntropyMean(l, new Int32Array([1, 0])).dataSync()[0]).toBeCloseTo(want, 6);
  });
});

describe('RPN targets and losses', () => {
  const gt = new Float32Array([10, 10, 50, 90]);
  const anchors = new Float32Array([10, 10, 50, 90, 12, 8, 52, 88, 200, 200, 240, 240, 0, 0, 16, 16]);
  it('labels and deltas on a hand-made case', () => {
    const t = rpnTargets(anchors, gt, lcg(3));
    expect([...t.labels]).toEqual([1, 1, 0, 0]);
    expect([...t.deltas.subarray(0, 4)].map((v) => Math.abs(v))).toEqual([0, 0, 0, 0]);
    expect(t.deltas[4]).toBeCloseTo(-2 / 40, 6); // dx = (30 − 32) / 40
  });
  it('loss values and gradient w.r.t. logits', () => {
    const t = rpnTargets(anchors, gt, lcg(3));
    const logits = tf.tensor1d([0.5, -1, 2, 0]);
    const deltas = tf.tensor2d(new Float32Array(16).fill(0.1), [4, 4]);
    const l = rpnLosses(logits, deltas, t, { normalizer: 4 });
    const sg = (x: number) => 1 / (1 + Math.exp(-x));
    const cls = -(Math.log(sg(0.5)) + Math.log(sg(-1)) + Math.log(1 - sg(2)) + Math.log(1 - sg(0)));
    expect(l.loss_rpn_cls.dataSync()[0]).toBeCloseTo(cls / 4, 5);
    // positives: anchor 0 (target 0) and anchor 1; L1 over both / 4
    const d1 = [...t.deltas.subarray(4, 8)].reduce((s, v) => s + Math.abs(0.1 - v), 0);
    expect(l.loss_rpn_loc.dataSync()[0]).toBeCloseTo((0.4 + d1) / 4, 5);
    const g = tf.grad((x: tf.Tensor) => rpnLosses(x as tf.Tensor1D, deltas, t, { normalizer: 4 }).loss_rpn_cls)(logits).dataSync();
    expect(g[2]).toBeCloseTo(sg(2) / 4, 5);
    expect(g[0]).toBeCloseTo((sg(0.5) - 1) / 4, 5);
  });
});

describe('RoI sampling and box-head losses', () => {
  it('appends GT, foreground first, 25% cap, class-specific regression', () => {
    const gt = new Float32Array([0, 0, 100, 100]);
    const props: number[] = [];
    for (let i = 0; i < 20; i++) props.push(i, i, 100 + i, 100 + i); // IoU ≥ 0.5 for small i
    for (let i = 0; i < 50; i++) props.push(300 + i, 300, 340 + i, 340);
    const s = sampleRois(Float32Array.from(props), gt, new Int32Array([0]), lcg(4), { numClasses: 1, batchSizePerImage: 16 });
    expect(s.numForeground).toBe(4);
    expect(s.classes.length).toBe(16);
    expect([...s.classes.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...s.classes.subarray(4)].every((c) => c === 1)).toBe(true);
    const logits = tf.zeros([16, 2]) as tf.Tensor2D;
    const deltas = tf.tensor2d(Float32Array.from({ length: 64 }, (_, i) => s.deltas[i] ?? 0), [16, 4]);
    const l = boxHeadLosses(logits, deltas, s);
    expect(l.loss_cls.dataSync()[0]).toBeCloseTo(Math.log(2), 6);
    expect(l.loss_box_reg.dataSync()[0]).toBeCloseTo(0, 6);
    const shifted = tf.add(deltas, 0.5) as tf.Tensor2D;
    expect(boxHeadLosses(logits, shifted, s).loss_box_reg.dataSync()[0]).toBeCloseTo((4 * 4 * 0.5) / 16, 5);
  });
});
