import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.ts';
import { Conv2d, ConvTranspose2d, seedInit } from './layers.ts';
import { Module } from './module.ts';
import { type F64, f64, finiteDiff, randomF64, refResizeBilinear, relError } from './ops/gradcheck.ts';
import { Parameter } from './parameter.ts';
import { TfExecutor } from './tf-executor.ts';

const ex = new TfExecutor();
const TOL = 1e-3;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const toTensor = (a: F64): tf.Tensor => tf.tensor(Float32Array.from(a.data), a.shape);

/** Forward and gradient of Σ op(x)·r on the current backend. */
function run(op: (x: tf.Tensor) => tf.Tensor, x: F64, r: F64): { y: Float32Array; dx: Float32Array } {
  return tf.tidy(() => {
    const xt = toTensor(x);
    const rt = toTensor(r);
    const y = op(xt).dataSync() as Float32Array;
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(op(a), rt)))(xt).dataSync() as Float32Array;
    return { y, dx };
  });
}

/** Checks forward against a float64 reference and the wasm gradient against its finite differences and tfjs-cpu. */
async function check(op: (x: tf.Tensor) => tf.Tensor, ref: (x: F64) => F64, xShape: number[], eps = 1e-3, seed = 11): Promise<void> {
  const x = randomF64(xShape, seed);
  const yRef = ref(x);
  const r = randomF64(yRef.shape, seed + 1);
  const got = run(op, x, r);
  expect(relError(got.y, yRef.data)).toBeLessThan(1e-5);
  const fd = finiteDiff(([a]) => ref(a!), [x], 0, r, eps);
  expect(relError(got.dx, fd.data)).toBeLessThan(TOL);
  await tf.setBackend('cpu');
  try {
    expect(relError(got.dx, run(op, x, r).dx)).toBeLessThan(TOL);
  } finally {
    await tf.setBackend('wasm');
  }
}

function param(data: F64): Parameter {
  return new Parameter('p', toTensor(data), false);
}

const at = (a: F64, n: number, y: number, x: number, c: number): number => {
  const [, h, w, ch] = a.shape as [number, number, number, number];
  return a.data[((n * h + y) * w + x) * ch + c]!;
};

function refMaxPool(x: F64, k: number, s: number, p: number): F64 {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const ho = Math.floor((h + 2 * p - k) / s) + 1;
  const wo = Math.floor((w + 2 * p - k) / s) + 1;
  const y = f64([n, ho, wo, c]);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let ch = 0; ch < c; ch++) {
          let m = -Infinity;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const iy = oy * s - p + i;
              const ix = ox * s - p + j;
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) m = Math.max(m, at(x, b, iy, ix, ch));
            }
          y.data[((b * ho + oy) * wo + ox) * c + ch] = m;
        }
  return y;
}

function refNearest(x: F64, oh: number, ow: number): F64 {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const y = f64([n, oh, ow, c]);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) y.data[((b * oh + oy) * ow + ox) * c + ch] = at(x, b, Math.floor((oy * h) / oh), Math.floor((ox * w) / ow), ch);
  return y;
}

/** depth-to-space: DCR reads channel (i·r+j)·C + c, CRD (PyTorch pixel_shuffle) reads c·r² + i·r + j. */
function refDepthToSpace(x: F64, r: number, mode: 'DCR' | 'CRD'): F64 {
  const [n, h, w, cr] = x.shape as [number, number, number, number];
  const c = cr / (r * r);
  const y = f64([n, h * r, w * r, c]);
  for (let b = 0; b < n; b++)
    for (let yy = 0; yy < h * r; yy++)
      for (let xx = 0; xx < w * r; xx++)
        for (let ch = 0; ch < c; ch++) {
          const i = yy % r;
          const j = xx % r;
          const src = mode === 'DCR' ? (i * r + j) * c + ch : ch * r * r + i * r + j;
          y.data[((b * h * r + yy) * w * r + xx) * c + ch] = at(x, b, Math.floor(yy / r), Math.floor(xx / r), src);
        }
  return y;
}

function refGroupNorm(x: F64, groups: number, gamma: F64, beta: F64, eps: number): F64 {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cg = c / groups;
  const y = f64(x.shape);
  for (let b = 0; b < n; b++)
    for (let g = 0; g < groups; g++) {
      let s = 0;
      let s2 = 0;
      const cnt = h * w * cg;
      for (let p = 0; p < h * w; p++) for (let k = 0; k < cg; k++) s += x.data[(b * h * w + p) * c + g * cg + k]!;
      const mean = s / cnt;
      for (let p = 0; p < h * w; p++) for (let k = 0; k < cg; k++) s2 += (x.data[(b * h * w + p) * c + g * cg + k]! - mean) ** 2;
      const inv = 1 / Math.sqrt(s2 / cnt + eps);
      for (let p = 0; p < h * w; p++)
        for (let k = 0; k < cg; k++) {
          const idx = (b * h * w + p) * c + g * cg + k;
          y.data[idx] = (x.data[idx]! - mean) * inv * gamma.data[g * cg + k]! + beta.data[g * cg + k]!;
        }
    }
  return y;
}

describe('TfExecutor ops: forward vs float64 reference, gradient vs finite differences and tfjs-cpu (wasm)', () => {
  for (const [name, shape, size, ac] of [
    ['bilinear ×2 half-pixel', [1, 3, 4, 2], [6, 8], false],
    ['bilinear ×3 half-pixel, odd', [2, 5, 3, 1], [15, 9], false],
    ['bilinear 1×1 → 5×7 (ASPP image pool)', [1, 1, 1, 3], [5, 7], false],
    ['bilinear to odd size half-pixel', [1, 4, 5, 2], [7, 9], false],
    ['bilinear ×2 align corners', [1, 3, 4, 2], [6, 8], true],
    ['bilinear down align corners', [1, 7, 6, 2], [4, 3], true],
  ] as const) {
    it(name, async () => {
      await check((x) => ex.resize(x, { mode: 'bilinear', size: [size[0], size[1]], alignCorners: ac }), (x) => refResizeBilinear(x, size[0], size[1], ac), [...shape]);
    });
  }

  it('nearest ×2 (FPN top-down) and nearest to a like-sized map', async () => {
    await check((x) => ex.resize(x, { mode: 'nearest', scale: 2 }), (x) => refNearest(x, 10, 6), [1, 5, 3, 2]);
    const like = tf.zeros([1, 7, 5, 1]);
    await check((x) => ex.resizeLike(x, like, 'nearest'), (x) => refNearest(x, 7, 5), [1, 3, 2, 2]);
    like.dispose();
  });

  it('max-pool 3×3 s2 p1 (ResNet stem), padded cells never win', async () => {
    await check((x) => ex.maxPool(x, { kernel: 3, stride: 2, padding: 1 }), (x) => refMaxPool(x, 3, 2, 1), [1, 7, 6, 3], 1e-5);
    // All-negative input: a zero-padded pool would output 0 at the border.
    const y = tf.tidy(() => ex.maxPool(tf.fill([1, 3, 3, 1], -5), { kernel: 3, stride: 2, padding: 1 }).dataSync());
    expect(Array.from(y)).toEqual([-5, -5, -5, -5]);
  });

  for (const mode of ['DCR', 'CRD'] as const) {
    it(`depth-to-space ${mode} r=2 and r=3`, async () => {
      await check((x) => ex.depthToSpace(x, 2, mode), (x) => refDepthToSpace(x, 2, mode), [1, 3, 2, 12]);
      await check((x) => ex.depthToSpace(x, 3, mode), (x) => refDepthToSpace(x, 3, mode), [2, 2, 3, 9]);
    });
  }

  it('GroupNorm (PyTorch semantics) w.r.t. input', async () => {
    const gamma = randomF64([8], 21);
    const beta = randomF64([8], 22);
    const [g, b] = [param(gamma), param(beta)];
    await check((x) => ex.groupNorm(x, 4, g, b), (x) => refGroupNorm(x, 4, gamma, beta, 1e-5), [2, 3, 4, 8], 1e-4);
    g.dispose();
    b.dispose();
  });

  it('FrozenBatchNorm folds to x·scale + shift', async () => {
    const [w, b, m, v] = [randomF64([3], 31), randomF64([3], 32), randomF64([3], 33), randomF64([3], 34)];
    for (let i = 0; i < 3; i++) v.data[i] = v.data[i]! + 1.5;
    const bn = { weight: param(w), bias: param(b), runningMean: param(m), runningVar: param(v) };
    const ref = (x: F64): F64 => {
      const y = f64(x.shape);
      for (let i = 0; i < x.data.length; i++) {
        const c = i % 3;
        const scale = w.data[c]! / Math.sqrt(v.data[c]! + 1e-5);
        y.data[i] = x.data[i]! * scale + b.data[c]! - m.data[c]! * scale;
      }
      return y;
    };
    await check((x) => ex.frozenBatchNorm(x, bn), ref, [1, 4, 3, 3]);
    for (const p of Object.values(bn)) p.dispose();
  });

  it('softmax over channels', async () => {
    const ref = (x: F64): F64 => {
      const y = f64(x.shape);
      const c = x.shape[3]!;
      for (let i = 0; i < x.data.length; i += c) {
        let mx = -Infinity;
        for (let k = 0; k < c; k++) mx = Math.max(mx, x.data[i + k]!);
        let s = 0;
        for (let k = 0; k < c; k++) s += Math.exp(x.data[i + k]! - mx);
        for (let k = 0; k < c; k++) y.data[i + k] = Math.exp(x.data[i + k]! - mx) / s;
      }
      return y;
    };
    await check((x) => ex.softmaxChannels(x), ref, [1, 2, 3, 5], 1e-4);
  });
});

/** A tiny net covering the trainable ops: conv (strided, dilated, grouped), GN, FrozenBN, deconv, pool, resize. */
class TinyNet extends Module {
  readonly c1 = this.addModule('conv1', new Conv2d({ inChannels: 3, outChannels: 8, kernel: 3, stride: 2, padding: 1, norm: 'FrozenBN' }));
  readonly c2 = this.addModule('conv2', new Conv2d({ inChannels: 8, outChannels: 8, kernel: 3, padding: 2, dilation: 2, groups: 4, norm: 'GN', gnGroups: 2 }));
  readonly up = this.addModule('up', new ConvTranspose2d({ inChannels: 8, outChannels: 4, kernel: 4, stride: 2, padding: 1 }));
  readonly c3 = this.addModule('conv3', new Conv2d({ inChannels: 4, outChannels: 2, kernel: 1 }));
  forward(x: tf.Tensor): tf.Tensor {
    let y = ex.relu(this.c1.forward(ex, x));
    y = ex.maxPool(y, { kernel: 3, stride: 1, padding: 1 });
    y = ex.relu(this.c2.forward(ex, y));
    y = ex.resize(ex.relu(this.up.forward(ex, y)), { mode: 'bilinear', scale: 2 });
    return this.c3.forward(ex, y);
  }
}

describe('training leaks nothing', () => {
  it('100 SGD steps of a tiny net leave tf.memory().numTensors unchanged', () => {
    seedInit(7);
    const net = new TinyNet();
    const x = tf.randomNormal([2, 12, 10, 3], 0, 1, 'float32', 1);
    const target = tf.randomNormal([2, 24, 20, 2], 0, 1, 'float32', 2);
    const opt = tf.train.sgd(0.01);
    const vars = net.trainableVariables();
    const step = (): number => {
      const loss = opt.minimize(() => tf.mean(tf.square(tf.sub(net.forward(x), target))) as tf.Scalar, true, vars)!;
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    };
    const first = step();
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 100; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    opt.dispose();
    net.dispose();
    tf.dispose([x, target]);
  });
});
