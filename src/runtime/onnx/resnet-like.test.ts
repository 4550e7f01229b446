import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../executor.ts';
import { Conv2d, Linear, seedInit } from '../layers.ts';
import { Module } from '../module.ts';
import { compareWithTfjs, randomizeParameters } from './test-helpers.ts';

/** ResNet basic block with detectron2 naming (conv1/conv2/shortcut, FrozenBN children). */
class Block extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  shortcut: Conv2d | null;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.conv1 = this.addModule('conv1', new Conv2d({ inChannels: cin, outChannels: cout, kernel: 3, stride, padding: 1, norm: 'FrozenBN' }));
    this.conv2 = this.addModule('conv2', new Conv2d({ inChannels: cout, outChannels: cout, kernel: 3, padding: 1, norm: 'FrozenBN' }));
    this.shortcut = cin !== cout || stride !== 1 ? this.addModule('shortcut', new Conv2d({ inChannels: cin, outChannels: cout, kernel: 1, stride, norm: 'FrozenBN' })) : null;
  }
  forward<T>(ex: Executor<T>, x: T): T {
    const y = this.conv2.forward(ex, ex.relu(this.conv1.forward(ex, x)));
    return ex.relu(ex.add(y, this.shortcut ? this.shortcut.forward(ex, x) : x));
  }
}

/**
 * A small ResNet + FPN + head stack from layers.ts, written once against the Executor: stem 7×7/2 +
 * max-pool 3/2 pad 1, two stages of basic blocks, FPN laterals with top-down nearest resizeLike,
 * a GN conv + ASPP-style dilated branch, depth-to-space + bilinear head, and an FC box head.
 */
class Stack extends Module {
  stem = this.addModule('stem', new Conv2d({ inChannels: 3, outChannels: 8, kernel: 7, stride: 2, padding: 3, norm: 'FrozenBN' }));
  res2 = this.addModule('res2', new Block(8, 8, 1));
  res3 = this.addModule('res3', new Block(8, 16, 2));
  lat2 = this.addModule('fpn_lateral2', new Conv2d({ inChannels: 8, outChannels: 8, kernel: 1 }));
  lat3 = this.addModule('fpn_lateral3', new Conv2d({ inChannels: 16, outChannels: 8, kernel: 1 }));
  out2 = this.addModule('fpn_output2', new Conv2d({ inChannels: 8, outChannels: 8, kernel: 3, padding: 1 }));
  gn = this.addModule('head_gn', new Conv2d({ inChannels: 8, outChannels: 8, kernel: 3, padding: 1, norm: 'GN', gnGroups: 4 }));
  aspp = this.addModule('head_aspp', new Conv2d({ inChannels: 8, outChannels: 8, kernel: 3, padding: 2, dilation: 2, groups: 2 }));
  fuse = this.addModule('head_fuse', new Conv2d({ inChannels: 16, outChannels: 16, kernel: 1 }));
  fc = this.addModule('box_fc', new Linear(8 * 2 * 2, 5));

  forward<T>(ex: Executor<T>, x: T): T[] {
    const s = ex.maxPool(ex.relu(this.stem.forward(ex, x)), { kernel: 3, stride: 2, padding: 1 });
    const c2 = this.res2.forward(ex, s);
    const c3 = this.res3.forward(ex, c2);
    const top = this.lat3.forward(ex, c3);
    const p2 = this.out2.forward(ex, ex.add(this.lat2.forward(ex, c2), ex.resizeLike(top, c2, 'nearest')));
    const h = ex.relu(this.gn.forward(ex, p2));
    const fused = this.fuse.forward(ex, ex.concatChannels([h, ex.relu(this.aspp.forward(ex, h))]));
    const up = ex.resize(ex.depthToSpace(fused, 2, 'CRD'), { mode: 'bilinear', scale: 2 });
    const pooled = ex.maxPool(top, { kernel: 2, stride: 2 });
    const box = this.fc.forward(ex, ex.flatten(ex.resize(pooled, { mode: 'bilinear', size: [2, 2], alignCorners: true })));
    return [p2, up, ex.softmaxChannels(box)];
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ResNet-like stack from layers.ts', () => {
  it('ONNX Runtime output equals tfjs within 1e-4 relative (static and dynamic H, W; BN folded or not)', async () => {
    seedInit(11);
    const net = new Stack();
    randomizeParameters(net, 5);
    const fwd = <T>(ex: Executor<T>, [x]: T[]) => net.forward(ex, x!);
    for (const foldBatchNorm of [true, false]) {
      const r = await compareWithTfjs(net, fwd, [[2, 32, 40, 3]], { foldBatchNorm });
      expect(r.onnxShapes).toEqual(r.tfShapes);
      for (const e of r.relErrors) expect(e).toBeLessThan(1e-4);
    }
    // One dynamic-shape export, run at an odd size (FPN top-down through resizeLike).
    const r = await compareWithTfjs(net, fwd, [[1, 36, 52, 3]], { exportShapes: [[-1, -1, -1, 3]] });
    expect(r.onnxShapes).toEqual(r.tfShapes);
    for (const e of r.relErrors) expect(e).toBeLessThan(1e-4);
    net.dispose();
  });
});
