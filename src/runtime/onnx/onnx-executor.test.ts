import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { DensePoseError } from '../../errors.ts';
import type { Executor } from '../executor.ts';
import { Conv2d } from '../layers.ts';
import { Module } from '../module.ts';
import { TfExecutor } from '../tf-executor.ts';
import { exportOnnx, writeOnnx } from './export.ts';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareWithTfjs, ParamBag, randomInput, relError, type Forward } from './test-helpers.ts';
import { createSession } from './session.ts';

const TOL = 1e-4;

beforeAll(async () => {
  await tf.setBackend('cpu');
  // The CUDA fallback test makes ORT log the missing provider library; keep test output clean.
  ort.env.logLevel = 'fatal';
});

async function expectMatch(root: Module, forward: Forward, shapes: number[][], options: Parameters<typeof compareWithTfjs>[3] = {}): Promise<number[]> {
  const r = await compareWithTfjs(root, forward, shapes, options);
  expect(r.onnxShapes).toEqual(r.tfShapes);
  for (const e of r.relErrors) expect(e).toBeLessThan(TOL);
  return r.relErrors;
}

describe('OnnxExecutor matches TfExecutor', () => {
  it.each([
    { name: 'stride 2, pad 1', k: 3, stride: 2, padding: 1, dilation: 1, groups: 1, size: [1, 9, 11, 6] },
    { name: 'dilation 2, pad 2', k: 3, stride: 1, padding: 2, dilation: 2, groups: 1, size: [2, 8, 7, 4] },
    { name: 'dilation 6, stride 1', k: 3, stride: 1, padding: 6, dilation: 6, groups: 1, size: [1, 13, 14, 3] },
    { name: 'groups 4, stride 2', k: 3, stride: 2, padding: 1, dilation: 1, groups: 4, size: [1, 10, 9, 8] },
    { name: '7×7 stride 2 pad 3 (stem)', k: 7, stride: 2, padding: 3, dilation: 1, groups: 1, size: [1, 15, 17, 3] },
    { name: '1×1 stride 2 (shortcut)', k: 1, stride: 2, padding: 0, dilation: 1, groups: 1, size: [1, 9, 8, 5] },
  ])('conv2d $name', async ({ k, stride, padding, dilation, groups, size }) => {
    const bag = new ParamBag();
    const cin = size[3]!;
    const cout = groups * 3;
    const w = bag.param('weight', [k, k, cin / groups, cout]);
    const b = bag.param('bias', [cout]);
    await expectMatch(bag, (ex, [x]) => [ex.conv2d(x!, w, b, { stride, padding, dilation, groups })], [size]);
  });

  it.each([
    { k: 4, stride: 2, padding: 1, outputPadding: 0 },
    { k: 3, stride: 2, padding: 1, outputPadding: 1 },
    { k: 2, stride: 2, padding: 0, outputPadding: 0 },
    { k: 3, stride: 3, padding: 0, outputPadding: 2 },
  ])('conv2dTranspose k$k s$stride p$padding op$outputPadding', async ({ k, stride, padding, outputPadding }) => {
    const bag = new ParamBag();
    const w = bag.param('weight', [k, k, 5, 4]);
    const b = bag.param('bias', [5]);
    await expectMatch(bag, (ex, [x]) => [ex.conv2dTranspose(x!, w, b, { stride, padding, outputPadding })], [[1, 5, 6, 4]]);
  });

  it('linear after flatten follows NHWC feature order', async () => {
    const bag = new ParamBag();
    const w1 = bag.param('fc1_weight', [3 * 5 * 4, 7]);
    const b1 = bag.param('fc1_bias', [7]);
    const w2 = bag.param('fc2_weight', [7, 3]);
    await expectMatch(bag, (ex, [x]) => [ex.linear(ex.relu(ex.linear(ex.flatten(x!), w1, b1)), w2, null)], [[2, 3, 5, 4]]);
  });

  it('groupNorm (PyTorch semantics) with affine', async () => {
    const bag = new ParamBag();
    const g = bag.param('weight', [8], { mean: 1 });
    const b = bag.param('bias', [8]);
    await expectMatch(bag, (ex, [x]) => [ex.groupNorm(x!, 4, g, b)], [[2, 5, 7, 8]]);
    await expectMatch(bag, (ex, [x]) => [ex.groupNorm(x!, 1, g, b)], [[1, 3, 4, 8]]);
  });

  it.each([true, false])('frozenBatchNorm after conv, foldBatchNorm=%s', async (fold) => {
    const bag = new ParamBag();
    const w = bag.param('conv_weight', [3, 3, 4, 6]);
    const bn = {
      weight: bag.param('bn_weight', [6], { mean: 1 }),
      bias: bag.param('bn_bias', [6]),
      runningMean: bag.param('bn_running_mean', [6]),
      runningVar: bag.param('bn_running_var', [6], { positive: true }),
    };
    const fwd: Forward = (ex, [x]) => [ex.relu(ex.frozenBatchNorm(ex.conv2d(x!, w, null, { padding: 1 }), bn))];
    await expectMatch(bag, fwd, [[1, 6, 5, 4]], { foldBatchNorm: fold });
    // The conv output also read elsewhere: no fold, still exact.
    await expectMatch(bag, (ex, [x]) => {
      const y = ex.conv2d(x!, w, null, { padding: 1 });
      const z = ex.add(y, y);
      return [ex.frozenBatchNorm(y, bn), z];
    }, [[1, 6, 5, 4]], { foldBatchNorm: fold });
  });

  it('maxPool with padding (stem pool) and without', async () => {
    const bag = new ParamBag();
    await expectMatch(bag, (ex, [x]) => [ex.maxPool(x!, { kernel: 3, stride: 2, padding: 1 }), ex.maxPool(x!, { kernel: 1, stride: 2 })], [[1, 9, 10, 3]]);
  });

  it('elementwise, concat, softmax, global pooling (SE-style gating)', async () => {
    const bag = new ParamBag();
    const w = bag.param('w', [1, 1, 4, 4]);
    await expectMatch(bag, (ex, [a, b]) => {
      const gate = ex.sigmoid(ex.conv2d(ex.globalAvgPool(a!), w, null));
      const gated = ex.mul(a!, gate);
      return [ex.softmaxChannels(ex.concatChannels([ex.relu(gated), ex.add(gated, b!)]))];
    }, [[2, 5, 6, 4], [2, 5, 6, 4]]);
  });

  it.each([
    { mode: 'nearest' as const, alignCorners: false },
    { mode: 'bilinear' as const, alignCorners: false },
    { mode: 'bilinear' as const, alignCorners: true },
  ])('resize $mode alignCorners=$alignCorners: ×2, fixed sizes up and down', async ({ mode, alignCorners }) => {
    const bag = new ParamBag();
    const fwd: Forward = (ex, [x]) => [
      ex.resize(x!, { mode, scale: 2, alignCorners }),
      ex.resize(x!, { mode, size: [11, 7], alignCorners }),
      ex.resize(x!, { mode, size: [3, 2], alignCorners }),
      ex.resize(x!, { mode, size: [1, 1], alignCorners }),
    ];
    await expectMatch(bag, fwd, [[1, 5, 4, 3]]);
  });

  it.each(['nearest', 'bilinear'] as const)('resizeLike %s to odd FPN-style sizes, static and dynamic', async (mode) => {
    const bag = new ParamBag();
    const fwd: Forward = (ex, [x, like]) => [ex.resizeLike(x!, like!, mode)];
    await expectMatch(bag, fwd, [[1, 4, 5, 3], [1, 7, 9, 2]]);
    await expectMatch(bag, fwd, [[1, 4, 5, 3], [1, 7, 9, 2]], { exportShapes: [[-1, -1, -1, 3], [-1, -1, -1, 2]] });
  });

  it.each(['DCR', 'CRD'] as const)('depthToSpace %s', async (mode) => {
    const bag = new ParamBag();
    await expectMatch(bag, (ex, [x]) => [ex.depthToSpace(x!, 2, mode), ex.depthToSpace(x!, 3, mode)], [[1, 3, 4, 36]]);
  });
});

describe('exportOnnx', () => {
  class Tiny extends Module {
    conv = this.addModule('stem', new Module()).addModule('conv1', new Conv2d({ inChannels: 3, outChannels: 4, kernel: 3, padding: 1, norm: 'FrozenBN' }));
    forward<T>(ex: Executor<T>, x: T): T {
      return ex.relu(this.conv.forward(ex, x));
    }
  }

  function initializerNames(bytes: Uint8Array): string[] {
    return onnxProto.onnx.ModelProto.decode(bytes).graph!.initializer!.map((t) => t.name!);
  }

  it('names initializers by dotted parameter names', () => {
    const net = new Tiny();
    const plain = exportOnnx(net, (ex, [x]) => net.forward(ex, x!), { inputs: [{ name: 'image', shape: [1, 8, 8, 3] }], foldBatchNorm: false });
    expect(initializerNames(plain).sort()).toEqual(net.namedParameters().map(([n]) => n).sort());
    const folded = exportOnnx(net, (ex, [x]) => net.forward(ex, x!), { inputs: [{ name: 'image', shape: [1, 8, 8, 3] }] });
    expect(initializerNames(folded).sort()).toEqual(['stem.conv1.norm.bias+bn', 'stem.conv1.weight+bn']);
    net.dispose();
  });

  it('accepts NCHW inputs and leaves NCHW outputs on request; dynamic axes run at several sizes', async () => {
    const net = new Tiny();
    const bytes = exportOnnx(net, (ex, [x]) => net.forward(ex, x!), {
      inputs: [{ name: 'image', shape: [-1, 3, -1, -1], layout: 'NCHW' }],
      outputNames: ['features'],
      outputLayout: 'NCHW',
    });
    const session = await createSession(bytes, { threads: 1 });
    for (const [h, w] of [[6, 5], [9, 12]] as const) {
      const nhwc = randomInput([2, h, w, 3], 7);
      const ref = tf.tidy(() => tf.transpose(net.forward(new TfExecutor(), tf.tensor(nhwc, [2, h, w, 3])), [0, 3, 1, 2]).dataSync() as Float32Array);
      const nchw = tf.tidy(() => tf.transpose(tf.tensor(nhwc, [2, h, w, 3]), [0, 3, 1, 2]).dataSync() as Float32Array);
      const out = await session.run({ image: { data: nchw, shape: [2, 3, h, w] } });
      expect(out['features']!.shape).toEqual([2, 4, h, w]);
      expect(relError(out['features']!.data as Float32Array, ref)).toBeLessThan(TOL);
    }
    await session.dispose();
    net.dispose();
  });

  it('gives a parameter used in two layouts one initializer per layout, and stays exact', async () => {
    const bag = new ParamBag();
    const w = bag.param('w', [1, 1, 4, 4]);
    const v = bag.param('v', [4], { mean: 1 });
    const fwd: Forward = (ex, [x]) => [ex.groupNorm(ex.conv2d(x!, w, v), 2, v, v)];
    await expectMatch(bag, fwd, [[1, 3, 3, 4]]);
    const bytes = exportOnnx(bag, (ex, xs) => fwd(ex, xs), { inputs: [{ name: 'x', shape: [1, 3, 3, 4] }] });
    expect(initializerNames(bytes).filter((n) => !n.startsWith('const')).sort()).toEqual(['v', 'v:c11', 'w']);
  });

  it('rejects parameters outside the root module, naming the parameter', () => {
    const root = new ParamBag();
    const stray = new ParamBag().param('lonely', [1, 1, 3, 2]);
    expect(() => exportOnnx(root, (ex, [x]) => ex.conv2d(x!, stray, null), { inputs: [{ name: 'x', shape: [1, 2, 2, 3] }] })).toThrow(/"lonely"/);
  });

  it('rejects a mismatched outputNames list', () => {
    const root = new ParamBag();
    expect(() => exportOnnx(root, (ex, [x]) => [ex.relu(x!)], { inputs: [{ name: 'x', shape: [1, 2, 2, 3] }], outputNames: ['a', 'b'] })).toThrow(DensePoseError);
  });
});

describe('createSession', () => {
  const net = new ParamBag();
  const bytes = exportOnnx(net, (ex, [x]) => ex.relu(x!), { inputs: [{ name: 'x', shape: [1, 2, 2, 1] }] });

  it('falls back to CPU when the CUDA provider is not installed, and says why', async () => {
    const s = await createSession(bytes, { executionProvider: 'cuda' });
    try {
      if (s.executionProvider === 'cpu') expect(s.fallbackReason).toMatch(/cuda/);
      const out = await s.run({ x: { data: new Float32Array([-1, 2, -3, 4]), shape: [1, 2, 2, 1] } });
      expect([...(out['output_0']!.data as Float32Array)]).toEqual([0, 2, 0, 4]);
    } finally {
      await s.dispose();
    }
  });

  it('throws UNSUPPORTED without fallback, BAD_OPTION for unknown providers, MISSING_KEY for missing feeds', async () => {
    const probe = await createSession(bytes, { executionProvider: 'cuda' });
    const cudaMissing = probe.executionProvider === 'cpu';
    await probe.dispose();
    if (cudaMissing) await expect(createSession(bytes, { executionProvider: 'cuda', fallbackToCpu: false })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(createSession(bytes, { executionProvider: 'tpu' as 'cpu' })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    const s = await createSession(bytes);
    await expect(s.run({})).rejects.toMatchObject({ code: 'MISSING_KEY' });
    await s.dispose();
  });

  it('opens a model written with writeOnnx from its path (no temp file left behind)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-'));
    try {
      const path = join(dir, 'relu.onnx');
      writeOnnx(path, bytes);
      expect(readdirSync(dir)).toEqual(['relu.onnx']);
      const s = await createSession(path, { threads: 1, graphOptimization: 'basic' });
      expect(s.inputNames).toEqual(['x']);
      const out = await s.run({ x: { data: new Float32Array([1, -2, 3, -4]), shape: [1, 2, 2, 1] } });
      expect(out['output_0']!.shape).toEqual([1, 2, 2, 1]);
      await s.dispose();
      await expect(createSession(join(dir, 'missing.onnx'))).rejects.toMatchObject({ code: 'BAD_FILE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a corrupt model as BAD_FILE', async () => {
    await expect(createSession(bytes.subarray(0, 20))).rejects.toMatchObject({ code: 'BAD_FILE' });
  });
});
