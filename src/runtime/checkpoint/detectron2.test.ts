import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DensePoseError } from '../../errors.ts';
import {
  convertDetectron2StateDict,
  convTransposeWeightToTfjs,
  convWeightToHwio,
  detectron2WeightKind,
  linearWeightFromNchwFlatten,
  linearWeightToTfjs,
} from './detectron2.ts';
import type { NdArray } from './ndarray.ts';
import { readNpy } from './npy.ts';
import { permute } from './permute.ts';
import { readDetectron2Pkl } from './pickle.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS } from './test-fixtures.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic pseudo-random values in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
const f32 = (shape: number[], seed: number): NdArray => ({ dtype: 'float32', shape, data: rand(shape.reduce((a, b) => a * b, 1), seed) });
const tensor = (a: NdArray) => tf.tensor(a.data as Float32Array, a.shape, 'float32');

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / Math.max(m, 1e-12);
}

/** NCHW x, OIHW w: PyTorch Conv2d (stride 1, zero padding `pad`), written out as loops. Returns NCHW. */
function refConv(x: NdArray, w: NdArray, pad: number): NdArray {
  const [n, ci, h, wd] = x.shape as [number, number, number, number];
  const [co, , kh, kw] = w.shape as [number, number, number, number];
  const oh = h + 2 * pad - kh + 1;
  const ow = wd + 2 * pad - kw + 1;
  const X = x.data as Float32Array;
  const W = w.data as Float32Array;
  const out = new Float32Array(n * co * oh * ow);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < co; o++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = 0;
          for (let i = 0; i < ci; i++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = y + ky - pad;
                const ix = xx + kx - pad;
                if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
                s += X[((b * ci + i) * h + iy) * wd + ix]! * W[((o * ci + i) * kh + ky) * kw + kx]!;
              }
          out[((b * co + o) * oh + y) * ow + xx] = s;
        }
  return { dtype: 'float32', shape: [n, co, oh, ow], data: out };
}

/** NCHW x, weight [in, out, kh, kw]: PyTorch ConvTranspose2d (stride s, padding p) as a scatter. Returns NCHW. */
function refConvTranspose(x: NdArray, w: NdArray, s: number, p: number): NdArray {
  const [n, ci, h, wd] = x.shape as [number, number, number, number];
  const [, co, kh, kw] = w.shape as [number, number, number, number];
  const oh = (h - 1) * s - 2 * p + kh;
  const ow = (wd - 1) * s - 2 * p + kw;
  const X = x.data as Float32Array;
  const W = w.data as Float32Array;
  const out = new Float32Array(n * co * oh * ow);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ci; i++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < wd; xx++) {
          const v = X[((b * ci + i) * h + y) * wd + xx]!;
          for (let o = 0; o < co; o++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const oy = y * s - p + ky;
                const ox = xx * s - p + kx;
                if (oy < 0 || ox < 0 || oy >= oh || ox >= ow) continue;
                out[((b * co + o) * oh + oy) * ow + ox]! += v * W[((i * co + o) * kh + ky) * kw + kx]!;
              }
        }
  return { dtype: 'float32', shape: [n, co, oh, ow], data: out };
}

const nhwc = (a: NdArray) => permute(a, [0, 2, 3, 1]);

describe('permute', () => {
  it('matches numpy transpose index arithmetic', () => {
    const a = f32([2, 3, 4, 5], 1);
    const p = permute(a, [3, 1, 0, 2]);
    expect(p.shape).toEqual([5, 3, 2, 4]);
    const A = a.data as Float32Array;
    const P = p.data as Float32Array;
    for (let i0 = 0; i0 < 2; i0++)
      for (let i1 = 0; i1 < 3; i1++)
        for (let i2 = 0; i2 < 4; i2++)
          for (let i3 = 0; i3 < 5; i3++) expect(P[((i3 * 3 + i1) * 2 + i0) * 4 + i2]).toBe(A[((i0 * 3 + i1) * 4 + i2) * 5 + i3]);
    expect(() => permute(a, [0, 1, 1, 2])).toThrow(DensePoseError);
  });
});

describe('detectron2 → tfjs layout', () => {
  it('conv OIHW → HWIO: tf.conv2d on NHWC equals PyTorch Conv2d on NCHW', () => {
    const x = f32([2, 3, 6, 5], 2);
    const w = f32([4, 3, 3, 3], 3);
    const ref = nhwc(refConv(x, w, 1));
    const hwio = convWeightToHwio(w);
    expect(hwio.shape).toEqual([3, 3, 3, 4]);
    const y = tf.tidy(() => tf.conv2d(tensor(nhwc(x)) as tf.Tensor4D, tensor(hwio) as tf.Tensor4D, 1, 'same').dataSync());
    expect(maxRelDiff(y, ref.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('ConvTranspose [in,out,kh,kw] → [kh,kw,out,in]: tf.conv2dTranspose equals PyTorch ConvTranspose2d (k4 s2 p1)', () => {
    const x = f32([1, 3, 5, 4], 4);
    const w = f32([3, 2, 4, 4], 5);
    const ref = nhwc(refConvTranspose(x, w, 2, 1));
    expect(ref.shape).toEqual([1, 10, 8, 2]);
    const f = convTransposeWeightToTfjs(w);
    expect(f.shape).toEqual([4, 4, 2, 3]);
    const y = tf.tidy(() => tf.conv2dTranspose(tensor(nhwc(x)) as tf.Tensor4D, tensor(f) as tf.Tensor4D, [1, 10, 8, 2], 2, 'same').dataSync());
    expect(maxRelDiff(y, ref.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('linear [out,in] → [in,out], and the NCHW-flatten variant applies to a flattened NHWC feature', () => {
    const [c, h, wd, out] = [3, 2, 4, 5];
    const x = f32([2, c, h, wd], 6);
    const w = f32([out, c * h * wd], 7);
    const ref = tf.tidy(() => tf.matMul(tf.reshape(tensor(x), [2, -1]), tensor(w), false, true).dataSync());
    const plain = tf.tidy(() => tf.matMul(tf.reshape(tensor(x), [2, -1]), tensor(linearWeightToTfjs(w))).dataSync());
    expect(maxRelDiff(plain, ref)).toBeLessThan(1e-6);
    const wn = linearWeightFromNchwFlatten(w, c, h, wd);
    expect(wn.shape).toEqual([h * wd * c, out]);
    const y = tf.tidy(() => tf.matMul(tf.reshape(tensor(nhwc(x)), [2, -1]), tensor(wn)).dataSync());
    expect(maxRelDiff(y, ref)).toBeLessThan(1e-6);
    expect(() => linearWeightFromNchwFlatten(w, 5, 2, 4)).toThrow(/C=5/);
  });

  it('classifies entries and drops bookkeeping keys', () => {
    const k = (name: string, shape: number[]) => detectron2WeightKind(name, f32(shape, 0));
    expect(k('backbone.bottom_up.res2.0.conv1.weight', [8, 8, 3, 3])).toBe('conv');
    expect(k('roi_heads.densepose_predictor.u_lowres.weight', [8, 25, 4, 4])).toBe('convTranspose');
    expect(k('roi_heads.mask_head.deconv.weight', [8, 8, 2, 2])).toBe('convTranspose');
    expect(k('roi_heads.box_head.fc2.weight', [8, 8])).toBe('linear');
    expect(k('backbone.bottom_up.stem.conv1.norm.weight', [8])).toBe('keep');
    const sd = new Map<string, NdArray>([
      ['a.conv.weight', f32([2, 1, 1, 1], 0)],
      ['a.bn.num_batches_tracked', { dtype: 'int64', shape: [], data: new BigInt64Array(1) }],
      ['pixel_mean', f32([3, 1, 1], 0)],
      ['proposal_generator.anchor_generator.cell_anchors.0', f32([3, 4], 0)],
      ['b.fc.weight', f32([2, 3, 1], 0)],
    ]);
    expect(() => convertDetectron2StateDict(sd, { kindOf: (n) => (n === 'b.fc.weight' ? 'linear' : 'keep') })).toThrow(/"b.fc.weight".*rank 2/);
    sd.delete('b.fc.weight');
    const r = convertDetectron2StateDict(sd);
    expect(r.dropped).toEqual(['a.bn.num_batches_tracked', 'pixel_mean', 'proposal_generator.anchor_generator.cell_anchors.0']);
    expect([...r.tensors.keys()]).toEqual(['a.conv.weight']);
  });
});

describe.skipIf(SKIP_FIXTURE_TESTS)('detectron2 tiny checkpoint', () => {
  const dir = join(FIXTURES, 'detectron2');

  it('converts every entry (conv, ConvTranspose, box head FC from a 64×7×7 RoI feature)', () => {
    const r = convertDetectron2StateDict(readDetectron2Pkl(join(dir, 'densepose_rcnn_R_18_tiny_random.pkl')));
    expect(r.dropped).toEqual([]);
    expect(r.tensors.size).toBe(170);
    const byKind = (kind: string) => r.entries.filter((e) => e.kind === kind).map((e) => e.name);
    expect(byKind('convTranspose').sort()).toEqual(
      ['ann_index_lowres', 'index_uv_lowres', 'u_lowres', 'v_lowres'].map((n) => `roi_heads.densepose_predictor.${n}.weight`),
    );
    expect(byKind('linear').length).toBe(4);
    const fc1 = r.entries.find((e) => e.name === 'roi_heads.box_head.fc1.weight')!;
    expect(fc1).toMatchObject({ from: [128, 3136], to: [3136, 128], flattenedFrom: [64, 7, 7] });
    expect(r.tensors.get('backbone.bottom_up.stem.conv1.weight')!.shape).toEqual([7, 7, 3, 64]);
    expect(r.tensors.get('roi_heads.densepose_predictor.u_lowres.weight')!.shape).toEqual([4, 4, 25, 64]);
  });

  it('the converted DensePose head + predictor reproduces detectron2 coarse_segm and u on the pooled RoI features', () => {
    const r = convertDetectron2StateDict(readDetectron2Pkl(join(dir, 'densepose_rcnn_R_18_tiny_random.pkl')));
    const w = (n: string) => tensor(r.tensors.get(n)!);
    const pooled = readNpy(join(dir, 'tensors', 'pooled.npy')); // [2, 64, 28, 28] NCHW
    const box0 = { dtype: 'float32' as const, shape: [1, ...pooled.shape.slice(1)], data: (pooled.data as Float32Array).subarray(0, 64 * 28 * 28) };
    const [segm, u] = tf.tidy(() => {
      let x = tensor(nhwc(box0)) as tf.Tensor4D;
      for (let i = 1; i <= 8; i++) {
        const p = `roi_heads.densepose_head.body_conv_fcn${i}`;
        x = tf.relu(tf.add(tf.conv2d(x, w(`${p}.weight`) as tf.Tensor4D, 1, 'same'), w(`${p}.bias`))) as tf.Tensor4D;
      }
      const head = (n: string, ch: number) => {
        const p = `roi_heads.densepose_predictor.${n}`;
        const low = tf.add(tf.conv2dTranspose(x, w(`${p}.weight`) as tf.Tensor4D, [1, 56, 56, ch], 2, 'same'), w(`${p}.bias`)) as tf.Tensor4D;
        return tf.image.resizeBilinear(low, [112, 112], false, true).dataSync();
      };
      return [head('ann_index_lowres', 2), head('u_lowres', 25)];
    });
    for (const [name, got, ch] of [['coarse_segm', segm, 2], ['u', u, 25]] as const) {
      const ref = readNpy(join(dir, 'tensors', `${name}.npy`));
      const ref0 = nhwc({ dtype: 'float32', shape: [1, ch, 112, 112], data: (ref.data as Float32Array).subarray(0, ch * 112 * 112) });
      expect(maxRelDiff(got!, ref0.data as Float32Array), name).toBeLessThan(1e-4);
    }
  });
});
