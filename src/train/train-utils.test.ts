import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { learningRate } from './schedule.ts';
import { Sgd } from './sgd.ts';
import { AdamW } from './adamw.ts';
import { createOptimizer } from './optimizer.ts';
import { Rng, hashKeys } from './random.ts';
import { flipImageInPlace, flipPerson, resizeShortestEdge } from './augment.ts';
import type { FlipSymmetry, PersonTarget } from './sample.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('learningRate', () => {
  it('warms up linearly then decays at each step', () => {
    const o = { baseLr: 0.02, steps: [100, 200], gamma: 0.1, warmupIters: 10, warmupFactor: 0.001 };
    expect(learningRate(0, o)).toBeCloseTo(0.02 * 0.001, 12);
    expect(learningRate(5, o)).toBeCloseTo(0.02 * (0.001 * 0.5 + 0.5), 12);
    expect(learningRate(10, o)).toBeCloseTo(0.02, 12);
    expect(learningRate(150, o)).toBeCloseTo(0.002, 12);
    expect(learningRate(250, o)).toBeCloseTo(0.0002, 12);
  });
});

describe('learningRate (cosine)', () => {
  it('follows detectron2 WarmupCosineLR: half at mid-run, 0 at maxIter, warmup on top', () => {
    const o = { baseLr: 0.01, lrSchedule: 'cosine' as const, maxIter: 1000, warmupIters: 10, warmupFactor: 0.001, steps: [100] };
    expect(learningRate(500, o)).toBeCloseTo(0.005, 12);
    expect(learningRate(1000, o)).toBeCloseTo(0, 12);
    expect(learningRate(250, o)).toBeCloseTo(0.01 * 0.5 * (1 + Math.SQRT1_2), 12);
    const a = 5 / 10;
    expect(learningRate(5, o)).toBeCloseTo(0.01 * 0.5 * (1 + Math.cos((Math.PI * 5) / 1000)) * (0.001 * (1 - a) + a), 12);
  });
});

describe('AdamW', () => {
  it('matches torch.optim.AdamW (lr 0.1, betas 0.9/0.999, eps 1e-8, weight decay 0.05) step for step', () => {
    // Golden values printed by PyTorch 1.13 (python3-torch) for these three gradients.
    const expected = [
      [0.895000041, -1.88999999, 0.397500008],
      [0.803418636, -1.91716039, 0.368878812],
      [0.81743896, -1.93587458, 0.335510045],
    ];
    const grads = [[0.3, -0.1, 2.0], [0.1, 0.2, -1.0], [-0.5, 0.0, 0.4]];
    const p = tf.variable(tf.tensor1d([1.0, -2.0, 0.5]));
    const params = new Map([['w', p]]);
    const opt = new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05 });
    const before = tf.memory().numTensors;
    grads.forEach((g, k) => {
      const gt = tf.tensor1d(g);
      opt.step(params, new Map([['w', gt]]), 0.1);
      gt.dispose();
      const got = Array.from(p.dataSync());
      got.forEach((x, i) => expect(x).toBeCloseTo(expected[k]![i]!, 5));
      if (k === 0) expect(tf.memory().numTensors).toBe(before + 2); // the two moment buffers
    });
    expect(tf.memory().numTensors).toBe(before + 2);
    // A checkpoint round trip continues the same sequence.
    const saved = new Map([...opt.state()].map(([n, t]) => [n, t.clone()]));
    expect([...saved.keys()].sort()).toEqual(['adamw.exp_avg.w', 'adamw.exp_avg_sq.w', 'adamw.step']);
    const p2 = tf.variable(p.clone());
    const resumed = new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05 });
    resumed.loadState(saved);
    const g = tf.tensor1d([0.2, -0.3, 0.1]);
    opt.step(params, new Map([['w', g]]), 0.1);
    resumed.step(new Map([['w', p2]]), new Map([['w', g]]), 0.1);
    expect(Array.from(p2.dataSync())).toEqual(Array.from(p.dataSync()));
    // SGD refuses AdamW state instead of treating moments as momentum buffers.
    expect(() => new Sgd().loadState(saved)).toThrow(/AdamW state/);
    expect(() => new AdamW().loadState(new Map([['w', g]]))).toThrow(/another optimiser/);
    tf.dispose([...saved.values(), g, p, p2]);
    opt.dispose();
    resumed.dispose();
  });

  it('is what solver.optimizer "adamw" builds, and leaves parameters alone on a non-finite gradient', () => {
    const opt = createOptimizer({ optimizer: 'adamw', momentum: 0.9, weightDecay: 0.1, clipNorm: 0, betas: [0.9, 0.99] });
    expect(opt).toBeInstanceOf(AdamW);
    expect(createOptimizer({ optimizer: 'sgd', momentum: 0.9, weightDecay: 0.1, clipNorm: 0, betas: [0.9, 0.99] })).toBeInstanceOf(Sgd);
    const p = tf.variable(tf.tensor1d([1, 2]));
    const g = tf.tensor1d([NaN, 1]);
    expect(Number.isFinite(opt.step(new Map([['w', p]]), new Map([['w', g]]), 0.1).gradNorm)).toBe(false);
    expect(Array.from(p.dataSync())).toEqual([1, 2]);
    tf.dispose([p, g]);
    opt.dispose();
  });
});

describe('Sgd', () => {
  it('matches PyTorch SGD (momentum, weight decay) computed by hand', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const params = new Map([['w', p]]);
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0.1 });
    const g1 = tf.tensor1d([0.5, 1]);
    sgd.step(params, new Map([['w', g1]]), 0.1);
    // v1 = g + wd·p = [0.6, 0.8]; p1 = p − 0.1·v1
    expect(Array.from(p.dataSync())).toEqual([1 - 0.06, -2 - 0.08].map((x) => Math.fround(x)));
    sgd.step(params, new Map([['w', g1]]), 0.1);
    // v2 = 0.9·v1 + g + wd·p1
    const p1 = [0.94, -2.08];
    const v2 = [0.9 * 0.6 + 0.5 + 0.1 * p1[0]!, 0.9 * 0.8 + 1 + 0.1 * p1[1]!];
    const got = p.dataSync();
    expect(got[0]).toBeCloseTo(p1[0]! - 0.1 * v2[0]!, 5);
    expect(got[1]).toBeCloseTo(p1[1]! - 0.1 * v2[1]!, 5);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 10; k++) sgd.step(params, new Map([['w', g1]]), 0.1);
    expect(tf.memory().numTensors).toBe(before);
    sgd.dispose();
    p.dispose();
    g1.dispose();
  });

  it('clips the global gradient norm', () => {
    const p = tf.variable(tf.zeros([2]));
    const sgd = new Sgd({ momentum: 0, weightDecay: 0, clipNorm: 1 });
    const g = tf.tensor1d([3, 4]);
    const r = sgd.step(new Map([['w', p]]), new Map([['w', g]]), 1);
    expect(r.gradNorm).toBeCloseTo(5, 5);
    const got = p.dataSync();
    expect(got[0]).toBeCloseTo(-0.6, 5);
    expect(got[1]).toBeCloseTo(-0.8, 5);
    p.dispose();
    g.dispose();
  });
});

describe('random', () => {
  it('is a pure function of seed and keys', () => {
    expect(hashKeys(1, 2, 3)).toBe(hashKeys(1, 2, 3));
    expect(hashKeys(1, 2, 3)).not.toBe(hashKeys(1, 3, 2));
    const a = Rng.forKeys(7, 100, 0);
    const b = Rng.forKeys(7, 100, 0);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('augment', () => {
  const sym: FlipSymmetry = {
    // a toy mirror: parts 1<->2, U mirrored
    flipPoint: (i, u, v) => [i === 1 ? 2 : i === 2 ? 1 : i, 1 - u, v],
    coarseSwap: Uint8Array.from({ length: 15 }, (_, k) => (k === 10 ? 11 : k === 11 ? 10 : k)),
  };
  it('flip twice is the identity (image and person)', () => {
    const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, k) => k);
    const copy = rgb.slice();
    flipImageInPlace(rgb, 5, 3);
    expect(rgb).not.toEqual(copy);
    expect(Array.from(rgb.subarray(0, 3))).toEqual([12, 13, 14]);
    flipImageInPlace(rgb, 5, 3);
    expect(rgb).toEqual(copy);

    const masks = new Uint8Array(256 * 256);
    masks[3 * 256 + 10] = 10;
    const p: PersonTarget = {
      box: [10, 20, 50, 120],
      iscrowd: false,
      densepose: { x: Float32Array.of(0, 100.5), y: Float32Array.of(5, 6), i: Uint8Array.of(1, 5), u: Float32Array.of(0.25, 0.5), v: Float32Array.of(0.1, 0.2), masks },
    };
    const f = flipPerson(p, 200, sym);
    expect(f.box).toEqual([150, 20, 190, 120]);
    expect(Array.from(f.densepose!.x)).toEqual([255, 154.5]);
    expect(Array.from(f.densepose!.i)).toEqual([2, 5]);
    expect(f.densepose!.masks![3 * 256 + 245]).toBe(11);
    const ff = flipPerson(f, 200, sym);
    expect(ff.box).toEqual(p.box);
    expect(Array.from(ff.densepose!.x)).toEqual(Array.from(p.densepose!.x));
    expect(Array.from(ff.densepose!.i)).toEqual([1, 5]);
    expect(ff.densepose!.u[0]).toBeCloseTo(0.25, 6);
    expect(ff.densepose!.masks).toEqual(masks);
  });

  it('resizes the shortest edge under a max size', () => {
    expect(resizeShortestEdge(640, 480, 240, 1000)).toEqual({ scale: 0.5, width: 320, height: 240 });
    expect(resizeShortestEdge(1000, 100, 200, 1000).width).toBe(1000);
  });
});
