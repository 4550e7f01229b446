import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { learningRate } from './schedule.ts';
import { Sgd } from './sgd.ts';
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
