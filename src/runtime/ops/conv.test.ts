import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.ts';
import { conv2d, conv2dTranspose } from './conv.ts';
import { type F64, finiteDiff, randomF64, refConv2d, refConvTranspose2d, relError } from './gradcheck.ts';

const TOL = 1e-3;

function toTensor(a: F64): tf.Tensor {
  return tf.tensor(Float32Array.from(a.data), a.shape);
}

/** Analytic gradients of Σ op(x,w)·r, on the current backend. */
function analytic(op: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor, x: F64, w: F64, r: F64): { y: Float32Array; dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const [xt, wt, rt] = [toTensor(x), toTensor(w), toTensor(r)];
    const y = op(xt as tf.Tensor4D, wt as tf.Tensor4D).dataSync() as Float32Array;
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D), rt)))([xt, wt]);
    return { y, dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/**
 * tfjs's cpu gradient kernels (`Conv2DBackpropInput`, `Conv2DBackpropFilter`; dilation 1 only) for
 * dy = r, grouped by split/concat: what tfjs's own conv gradient computes.
 */
function builtinConvGrads(x: F64, w: F64, r: F64, s: number, p: number, groups: number): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const pad: Pad4 = [[0, 0], [p, p], [p, p], [0, 0]];
    const xs = tf.split(toTensor(x), groups, 3);
    const ws = tf.split(toTensor(w), groups, 3);
    const rs = tf.split(toTensor(r), groups, 3);
    const dx = xs.map((xi, i) => tf.engine().runKernel('Conv2DBackpropInput', { dy: rs[i]!, filter: ws[i]! }, { strides: s, pad, dataFormat: 'NHWC', inputShape: xi.shape }) as tf.Tensor);
    const dw = xs.map((xi, i) => tf.engine().runKernel('Conv2DBackpropFilter', { x: xi, dy: rs[i]! }, { strides: s, pad, dataFormat: 'NHWC', filterShape: ws[i]!.shape }) as tf.Tensor);
    return { dx: tf.concat(dx, 3).dataSync() as Float32Array, dw: tf.concat(dw, 3).dataSync() as Float32Array };
  });
}

async function onCpu<R>(f: () => R): Promise<R> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}

interface ConvCase {
  x: number[];
  k: number;
  cout: number;
  stride: number;
  padding: number;
  dilation: number;
  groups: number;
}

const CASES: ConvCase[] = [
  { x: [1, 5, 6, 3], k: 3, cout: 4, stride: 1, padding: 1, dilation: 1, groups: 1 },
  { x: [1, 7, 9, 3], k: 3, cout: 4, stride: 2, padding: 1, dilation: 1, groups: 1 },
  { x: [2, 6, 5, 3], k: 3, cout: 2, stride: 2, padding: 0, dilation: 1, groups: 1 },
  { x: [1, 11, 9, 3], k: 7, cout: 4, stride: 2, padding: 3, dilation: 1, groups: 1 },
  { x: [1, 6, 5, 4], k: 1, cout: 3, stride: 1, padding: 0, dilation: 1, groups: 1 },
  { x: [1, 7, 5, 4], k: 1, cout: 3, stride: 2, padding: 0, dilation: 1, groups: 1 },
  { x: [1, 4, 5, 3], k: 1, cout: 2, stride: 1, padding: 1, dilation: 1, groups: 1 },
  { x: [1, 7, 8, 3], k: 3, cout: 4, stride: 1, padding: 2, dilation: 2, groups: 1 },
  { x: [1, 9, 10, 2], k: 3, cout: 3, stride: 1, padding: 6, dilation: 6, groups: 1 },
  { x: [1, 13, 14, 2], k: 3, cout: 3, stride: 1, padding: 0, dilation: 6, groups: 1 },
  { x: [1, 9, 8, 2], k: 3, cout: 3, stride: 2, padding: 2, dilation: 2, groups: 1 },
  { x: [1, 4, 5, 64], k: 3, cout: 64, stride: 1, padding: 1, dilation: 1, groups: 32 },
  { x: [1, 5, 5, 32], k: 3, cout: 64, stride: 2, padding: 1, dilation: 1, groups: 32 },
  { x: [1, 5, 6, 4], k: 3, cout: 4, stride: 1, padding: 1, dilation: 1, groups: 4 },
  { x: [1, 7, 7, 6], k: 3, cout: 6, stride: 1, padding: 2, dilation: 2, groups: 2 },
];

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('conv2d custom gradients (wasm)', () => {
  for (const c of CASES) {
    const name = `x [${c.x}] k${c.k} s${c.stride} p${c.padding} d${c.dilation} g${c.groups} → ${c.cout}`;
    it(name, async () => {
      const cin = c.x[3]!;
      const x = randomF64(c.x, 1);
      const w = randomF64([c.k, c.k, cin / c.groups, c.cout], 2);
      const o = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
      const yRef = refConv2d(x, w, o);
      const r = randomF64(yRef.shape, 3);
      const got = analytic((a, b) => conv2d(a, b, o), x, w, r);
      expect(relError(got.y, yRef.data)).toBeLessThan(1e-5);
      const fdx = finiteDiff(([a, b]) => refConv2d(a!, b!, o), [x, w], 0, r);
      const fdw = finiteDiff(([a, b]) => refConv2d(a!, b!, o), [x, w], 1, r);
      expect(relError(got.dx, fdx.data)).toBeLessThan(TOL);
      expect(relError(got.dw, fdw.data)).toBeLessThan(TOL);
      if (c.dilation === 1) {
        const builtin = await onCpu(() => builtinConvGrads(x, w, r, c.stride, c.padding, c.groups));
        expect(relError(got.dx, builtin.dx)).toBeLessThan(TOL);
        expect(relError(got.dw, builtin.dw)).toBeLessThan(TOL);
      }
    });
  }

  it('rejects a weight that does not fit the input, naming both shapes', () => {
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 4]) as tf.Tensor4D;
    expect(() => conv2d(x, w)).toThrow(/3 channels.*\[3,3,2,4\]/);
    tf.dispose([x, w]);
  });
});

describe('conv2dTranspose (PyTorch ConvTranspose2d) custom gradients (wasm)', () => {
  const TCASES = [
    { x: [1, 4, 5, 3], k: 4, cout: 2, stride: 2, padding: 1, outputPadding: 0 },
    { x: [2, 3, 4, 2], k: 3, cout: 3, stride: 2, padding: 1, outputPadding: 1 },
    { x: [1, 3, 3, 4], k: 2, cout: 3, stride: 2, padding: 0, outputPadding: 0 },
    { x: [1, 5, 4, 3], k: 3, cout: 2, stride: 1, padding: 1, outputPadding: 0 },
  ];
  for (const c of TCASES) {
    it(`x [${c.x}] k${c.k} s${c.stride} p${c.padding} op${c.outputPadding} → ${c.cout}`, async () => {
      const x = randomF64(c.x, 4);
      const w = randomF64([c.k, c.k, c.cout, c.x[3]!], 5);
      const ref = (ins: F64[]) => refConvTranspose2d(ins[0]!, ins[1]!, c.stride, c.padding, c.outputPadding);
      const yRef = ref([x, w]);
      const r = randomF64(yRef.shape, 6);
      const o = { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding };
      const got = analytic((a, b) => conv2dTranspose(a, b, o), x, w, r);
      expect(relError(got.y, yRef.data)).toBeLessThan(1e-5);
      expect(relError(got.dx, finiteDiff(ref, [x, w], 0, r).data)).toBeLessThan(TOL);
      expect(relError(got.dw, finiteDiff(ref, [x, w], 1, r).data)).toBeLessThan(TOL);
      // ConvTranspose is the input-gradient of Conv2d(stride, padding): its gradients are that conv (for x)
      // and Conv2DBackpropFilter with the roles of x and dy swapped (for w), in tfjs's cpu kernels.
      const builtin = await onCpu(() =>
        tf.tidy(() => {
          const pad: Pad4 = [[0, 0], [c.padding, c.padding], [c.padding, c.padding], [0, 0]];
          const [rt, wt, xt] = [toTensor(r), toTensor(w), toTensor(x)];
          const dx = tf.engine().runKernel('Conv2D', { x: rt, filter: wt }, { strides: c.stride, pad, dataFormat: 'NHWC', dilations: 1 }) as tf.Tensor;
          const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: rt, dy: xt }, { strides: c.stride, pad, dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor;
          return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
        }),
      );
      expect(relError(got.dx, builtin.dx)).toBeLessThan(TOL);
      expect(relError(got.dw, builtin.dw)).toBeLessThan(TOL);
    });
  }
});
