import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Fpn, FPN_LEVELS } from '../../src/model/backbone/fpn.ts';
import type { Executor } from '../../src/runtime/executor.ts';
import { seedInit } from '../../src/runtime/layers.ts';
import { compareWithTfjs, randomizeParameters } from '../../src/runtime/onnx/test-helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ResNet-18 + FPN from src/model: tfjs vs ONNX Runtime', () => {
  it('P2..P6 agree within 1e-4 relative on a small input (random weights and BN statistics)', async () => {
    seedInit(3);
    const net = new Fpn({ resnet: { depth: 18 } });
    randomizeParameters(net, 7);
    const fwd = <T>(ex: Executor<T>, [x]: T[]): T[] => {
      const f = net.forward(ex, x!);
      return FPN_LEVELS.map((l) => f[l]);
    };
    const r = await compareWithTfjs(net, fwd, [[1, 64, 96, 3]], { exportShapes: [[1, -1, -1, 3]] });
    expect(r.onnxShapes).toEqual(r.tfShapes);
    expect(r.tfShapes[0]).toEqual([1, 16, 24, 256]);
    for (const e of r.relErrors) expect(e).toBeLessThan(1e-4);
    net.dispose();
  });
});
