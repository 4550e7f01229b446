import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { describeBackend, initBackend } from './backend.ts';

describe('initBackend', () => {
  const saved = process.env.DENSEPOSE_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.DENSEPOSE_BACKEND;
    else process.env.DENSEPOSE_BACKEND = saved;
  });

  it('defaults to wasm with SIMD and reports its thread count; leaves no process error handlers behind', async () => {
    delete process.env.DENSEPOSE_BACKEND;
    const before = ['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));
    const r = await initBackend();
    // Emscripten's glue adds rethrowing handlers that print tfjs-backend-wasm's minified source
    expect(['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e))).toEqual(before);
    expect(r.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(r.threads).toBeGreaterThanOrEqual(1);
    expect(r.simd).toBe(true);
    expect(describeBackend(r)).toMatch(/^tfjs backend wasm \(\d+ threads?, SIMD\)$/);
  });

  it('follows DENSEPOSE_BACKEND, and an explicit option wins over it', async () => {
    process.env.DENSEPOSE_BACKEND = 'cpu';
    expect((await initBackend()).backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ backend: 'wasm' })).backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown backend name, listing the valid ones', async () => {
    process.env.DENSEPOSE_BACKEND = 'webgpu';
    await expect(initBackend()).rejects.toThrow('Unknown backend "webgpu". Expected one of: wasm, cpu, tensorflow.');
  });

  it('explains how to get the optional tensorflow backend when it is not installed', async () => {
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(/needs @tensorflow\/tfjs-node/);
  });
});
