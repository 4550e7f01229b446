import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamBag, type Forward } from '../test-helpers.ts';
import { compareGradients } from './test-helpers.ts';

/** Every op's ONNX adjoint against tfjs's gradient (the reference), issue #18: within 1e-4 relative. */
const TOL = 1e-4;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function expectGradients(root: ParamBag, forward: Forward, shapes: number[][], exportShapes?: number[][]): Promise<void> {
  const r = await compareGradients(root, forward, shapes, { exportShapes });
  expect(r.lossError).toBeLessThan(TOL);
  for (const e of r.inputErrors) expect(e).toBeLessThan(TOL);
  for (const [name, e] of Object.entries(r.paramErrors)) expect(e, name).toBeLessThan(TOL);
}

const dynamic = (shape: number[]) => [-1, -1, -1, shape[3]!];

describe('ONNX reverse mode matches tfjs gradients', () => {
  it.each([
    { name: '3×3 stride 1 pad 1', k: 3, stride: 1, padding: 1, dilation: 1, groups: 1, size: [2, 7, 6, 4] },
    { name: '3×3 stride 2 pad 1, odd sizes', k: 3, stride: 2, padding: 1, dilation: 1, groups: 1, size: [1, 9, 11, 6] },
    { name: '3×3 stride 2 pad 1, even sizes', k: 3, stride: 2, padding: 1, dilation: 1, groups: 1, size: [2, 8, 10, 3] },
    { name: 'dilation 2', k: 3, stride: 1, padding: 2, dilation: 2, groups: 1, size: [2, 8, 7, 4] },
    { name: 'dilation 6', k: 3, stride: 1, padding: 6, dilation: 6, groups: 1, size: [1, 13, 14, 3] },
    { name: 'groups 32', k: 3, stride: 1, padding: 1, dilation: 1, groups: 32, size: [1, 5, 6, 64] },
    { name: 'groups 4 stride 2', k: 3, stride: 2, padding: 1, dilation: 1, groups: 4, size: [2, 9, 8, 8] },
    { name: '7×7 stride 2 pad 3 (stem)', k: 7, stride: 2, padding: 3, dilation: 1, groups: 1, size: [1, 15, 17, 3] },
    { name: '1×1 stride 2 (shortcut)', k: 1, stride: 2, padding: 0, dilation: 1, groups: 1, size: [1, 9, 8, 5] },
  ])('conv2d $name, static and dynamic shapes', async ({ k, stride, padding, dilation, groups, size }) => {
    const bag = new ParamBag();
    const cin = size[3]!;
    const cout = groups * 2;
    const w = bag.param('weight', [k, k, cin / groups, cout]);
    const b = bag.param('bias', [cout]);
    const fwd: Forward = (ex, [x]) => [ex.conv2d(x!, w, b, { stride, padding, dilation, groups })];
    await expectGradients(bag, fwd, [size]);
    await expectGradients(bag, fwd, [size], [dynamic(size)]);
  });

  it.each([
    { k: 4, stride: 2, padding: 1, outputPadding: 0 },
    { k: 3, stride: 2, padding: 1, outputPadding: 1 },
    { k: 2, stride: 2, padding: 0, outputPadding: 0 },
  ])('conv2dTranspose k$k s$stride p$padding op$outputPadding', async ({ k, stride, padding, outputPadding }) => {
    const bag = new ParamBag();
    const w = bag.param('weight', [k, k, 5, 4]);
    const b = bag.param('bias', [5]);
    const fwd: Forward = (ex, [x]) => [ex.conv2dTranspose(x!, w, b, { stride, padding, outputPadding })];
    await expectGradients(bag, fwd, [[2, 5, 6, 4]]);
    await expectGradients(bag, fwd, [[2, 5, 6, 4]], [[-1, -1, -1, 4]]);
  });

  it('groupNorm (32 groups and 4) with affine, relu', async () => {
    const bag = new ParamBag();
    const g = bag.param('weight', [64], { mean: 1 });
    const b = bag.param('bias', [64]);
    await expectGradients(bag, (ex, [x]) => [ex.relu(ex.groupNorm(x!, 32, g, b))], [[2, 5, 3, 64]], [[-1, -1, -1, 64]]);
    await expectGradients(bag, (ex, [x]) => [ex.groupNorm(x!, 4, g, b)], [[1, 4, 7, 64]]);
  });

  it('frozenBatchNorm (buffers not trained) after conv', async () => {
    const bag = new ParamBag();
    const w = bag.param('conv_weight', [3, 3, 4, 6]);
    const frozen = new ParamBag();
    const bn = {
      weight: frozen.param('bn_weight', [6], { mean: 1 }),
      bias: frozen.param('bn_bias', [6]),
      runningMean: frozen.param('bn_running_mean', [6]),
      runningVar: frozen.param('bn_running_var', [6], { positive: true }),
    };
    for (const p of Object.values(bn)) (p as { trainable: boolean }).trainable = false;
    bag.addModule('bn', frozen);
    await expectGradients(bag, (ex, [x]) => [ex.relu(ex.frozenBatchNorm(ex.conv2d(x!, w, null, { padding: 1 }), bn))], [[1, 6, 5, 4]]);
  });

  it('linear after flatten, sigmoid', async () => {
    const bag = new ParamBag();
    const w1 = bag.param('fc1_weight', [3 * 5 * 4, 7]);
    const b1 = bag.param('fc1_bias', [7]);
    const w2 = bag.param('fc2_weight', [7, 3]);
    await expectGradients(bag, (ex, [x]) => [ex.sigmoid(ex.linear(ex.relu(ex.linear(ex.flatten(x!), w1, b1)), w2, null))], [[2, 3, 5, 4]], [[-1, 3, 5, 4]]);
  });

  it('maxPool with padding (stem pool) and without', async () => {
    const bag = new ParamBag();
    await expectGradients(bag, (ex, [x]) => [ex.maxPool(x!, { kernel: 3, stride: 2, padding: 1 }), ex.maxPool(x!, { kernel: 1, stride: 2 })], [[2, 9, 10, 3]], [dynamic([2, 9, 10, 3])]);
  });

  it('add, mul with broadcasting, concat, softmax, global pooling', async () => {
    const bag = new ParamBag();
    const w = bag.param('w', [1, 1, 4, 4]);
    await expectGradients(bag, (ex, [a, b]) => {
      const gate = ex.sigmoid(ex.conv2d(ex.globalAvgPool(a!), w, null));
      const gated = ex.mul(a!, gate);
      return [ex.softmaxChannels(ex.concatChannels([ex.relu(gated), ex.add(gated, b!)]))];
    }, [[2, 5, 6, 4], [2, 5, 6, 4]], [[-1, -1, -1, 4], [-1, -1, -1, 4]]);
  });

  it.each([
    { mode: 'nearest' as const, alignCorners: false },
    { mode: 'bilinear' as const, alignCorners: false },
    { mode: 'bilinear' as const, alignCorners: true },
  ])('resize $mode alignCorners=$alignCorners: ×2 and fixed sizes', async ({ mode, alignCorners }) => {
    const bag = new ParamBag();
    // tfjs's own nearest-neighbour gradient (used for non-integer ratios) is not a trustworthy reference,
    // so nearest is compared at integer ratios only (all the models use: FPN ×2).
    const sizes: [number, number][] = mode === 'nearest' ? [[15, 8]] : [[11, 7], [3, 2]];
    const fwd: Forward = (ex, [x]) => [ex.resize(x!, { mode, scale: 2, alignCorners }), ...sizes.map((size) => ex.resize(x!, { mode, size, alignCorners }))];
    await expectGradients(bag, fwd, [[2, 5, 4, 3]]);
    await expectGradients(bag, fwd, [[2, 5, 4, 3]], [dynamic([2, 5, 4, 3])]);
  });

  it.each(['nearest', 'bilinear'] as const)('resizeLike %s (FPN/decoder odd sizes, ASPP pooling 1×1 → H×W)', async (mode) => {
    const bag = new ParamBag();
    const fwd: Forward = (ex, [x, like]) => [ex.resizeLike(x!, like!, mode), ex.resizeLike(ex.globalAvgPool(x!), like!, mode)];
    await expectGradients(bag, fwd, [[1, 4, 5, 3], [1, 7, 9, 3]], [dynamic([1, 4, 5, 3]), dynamic([1, 7, 9, 3])]);
  });

  it.each(['DCR', 'CRD'] as const)('depthToSpace %s', async (mode) => {
    const bag = new ParamBag();
    await expectGradients(bag, (ex, [x]) => [ex.depthToSpace(x!, 2, mode), ex.depthToSpace(x!, 3, mode)], [[2, 3, 4, 36]], [dynamic([2, 3, 4, 36])]);
  });
});
