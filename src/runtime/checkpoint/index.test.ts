import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DensePoseError } from '../../errors.ts';
import { Conv2d, ConvTranspose2d, Linear } from '../layers.ts';
import { Module } from '../module.ts';
import { convertDetectron2StateDict, loadCheckpoint, readDetectron2Pkl, readSafetensors, saveCheckpoint, writeSafetensors } from './index.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS } from './test-fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-test-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A slice of the detectron2 DensePose model, with its real parameter names and widths of the tiny fixture. */
class TinyHeads extends Module {
  constructor() {
    super();
    const rh = this.addModule('roi_heads', new Module());
    const head = rh.addModule('densepose_head', new Module());
    head.addModule('body_conv_fcn1', new Conv2d({ inChannels: 64, outChannels: 64, kernel: 3, padding: 1 }));
    const pred = rh.addModule('densepose_predictor', new Module());
    pred.addModule('u_lowres', new ConvTranspose2d({ inChannels: 64, outChannels: 25, kernel: 4, stride: 2, padding: 1 }));
    const box = rh.addModule('box_head', new Module());
    box.addModule('fc1', new Linear(3136, 128));
  }
}

function catchError(fn: () => unknown): DensePoseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DensePoseError);
    return e as DensePoseError;
  }
  throw new Error('expected a DensePoseError');
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips every parameter and the metadata', async () => {
    const a = new TinyHeads();
    const b = new TinyHeads();
    const p = join(tmp, 'heads.safetensors');
    const before = tf.memory().numTensors;
    await saveCheckpoint(p, a, { step: '3' });
    const r = loadCheckpoint(p, b);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.loaded).toBe(6);
    expect(r.metadata).toMatchObject({ step: '3', 'densepose_ts.layout': 'tfjs' });
    for (const [name, t] of a.stateDict()) expect(Array.from(b.stateDict().get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    a.dispose();
    b.dispose();
  });

  it('names the file and the tensor for a wrong-shaped tensor, a truncated file, or another layout', async () => {
    const m = new TinyHeads();
    const p = join(tmp, 'bad.safetensors');
    await saveCheckpoint(p, m);
    const { tensors } = readSafetensors(p);
    tensors.set('roi_heads.box_head.fc1.weight', { dtype: 'float32', shape: [128, 3136], data: new Float32Array(128 * 3136) });
    writeSafetensors(p, tensors);
    const e1 = catchError(() => loadCheckpoint(p, m));
    expect(e1.code).toBe('SHAPE_MISMATCH');
    expect(e1.message).toContain(p);
    expect(e1.message).toContain('roi_heads.box_head.fc1.weight');

    const full = readFileSync(p);
    writeFileSync(p, full.subarray(0, full.length - 100));
    const e2 = catchError(() => loadCheckpoint(p, m));
    expect(e2.code).toBe('TRUNCATED_FILE');
    expect(e2.message).toContain(p);
    expect(e2.message).toMatch(/tensor "roi_heads\.[a-z_.0-9]+"/);

    writeSafetensors(p, new Map(), { 'densepose_ts.layout': 'detectron2' });
    expect(catchError(() => loadCheckpoint(p, m)).message).toContain('densepose convert');
    m.dispose();
  });
});

describe.skipIf(SKIP_FIXTURE_TESTS)('detectron2 .pkl → safetensors → Module', () => {
  it('converted weights have the shapes our layers expect, by name', async () => {
    const sd = readDetectron2Pkl(join(FIXTURES, 'detectron2', 'densepose_rcnn_R_18_tiny_random.pkl'));
    const { tensors } = convertDetectron2StateDict(sd);
    const p = join(tmp, 'tiny.safetensors');
    writeSafetensors(p, tensors, { 'densepose_ts.layout': 'tfjs' });
    const m = new TinyHeads();
    const r = loadCheckpoint(p, m, { strict: false });
    expect(r.mismatched).toEqual([]);
    expect(r.missing).toEqual([]);
    expect(r.loaded).toBe(6);
    expect(r.unexpected.length).toBe(170 - 6);
    const w = m.stateDict().get('roi_heads.densepose_predictor.u_lowres.weight')!;
    expect(w.shape).toEqual([4, 4, 25, 64]);
    // [kh, kw, out, in] element (1, 2, 3, 4) is detectron2's [in=4, out=3, kh=1, kw=2]
    const src = sd.get('roi_heads.densepose_predictor.u_lowres.weight')!.data as Float32Array;
    expect(w.dataSync()[((1 * 4 + 2) * 25 + 3) * 64 + 4]).toBe(src[((4 * 25 + 3) * 4 + 1) * 4 + 2]);
    m.dispose();
  });
});
