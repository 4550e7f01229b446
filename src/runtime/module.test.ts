import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Module } from './module.ts';
import { Conv2d, Linear } from './layers.ts';
import { DensePoseError } from '../errors.ts';

class Block extends Module {
  conv1 = this.addModule('conv1', new Conv2d({ inChannels: 3, outChannels: 4, kernel: 3, padding: 1, norm: 'FrozenBN' }));
  fc = this.addModule('fc', new Linear(4, 2));
}
class Net extends Module {
  res2 = this.addModule('res2', new Module());
  constructor() {
    super();
    this.res2.addModule('0', new Block());
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Module', () => {
  it('names parameters in detectron2 dotted style', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'res2.0.conv1.weight',
      'res2.0.conv1.norm.weight',
      'res2.0.conv1.norm.bias',
      'res2.0.conv1.norm.running_mean',
      'res2.0.conv1.norm.running_var',
      'res2.0.fc.weight',
      'res2.0.fc.bias',
    ]);
    // FrozenBN buffers are not trainable.
    expect(net.parameters().length).toBe(3);
    net.dispose();
  });

  it('round-trips a state dict and reports problems by name', () => {
    const a = new Net();
    const b = new Net();
    const report = b.loadStateDict(a.stateDict());
    expect(report.loaded).toBe(7);
    expect(Array.from(b.stateDict().get('res2.0.conv1.weight')!.dataSync())).toEqual(Array.from(a.stateDict().get('res2.0.conv1.weight')!.dataSync()));

    const bad = new Map(a.stateDict());
    bad.delete('res2.0.fc.bias');
    bad.set('res2.0.extra', tf.zeros([1]));
    bad.set('res2.0.fc.weight', tf.zeros([5, 2]));
    let err: unknown;
    try {
      b.loadStateDict(bad, { source: 'model.safetensors' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DensePoseError);
    const msg = (err as Error).message;
    expect(msg).toContain('model.safetensors');
    expect(msg).toContain('res2.0.fc.weight: got [5,2], expected [4,2]');
    expect(msg).toContain('res2.0.fc.bias');
    expect(msg).toContain('res2.0.extra');
    const lenient = b.loadStateDict(bad, { strict: false });
    expect(lenient.missing).toEqual(['res2.0.fc.bias']);
    expect(lenient.unexpected).toEqual(['res2.0.extra']);
    expect(lenient.loaded).toBe(5);
    a.dispose();
    b.dispose();
  });
});
