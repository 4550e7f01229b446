// Data distillation end to end on a tiny random teacher: valid COCO-DensePose pseudo-labels,
// shards merged = the unsharded run byte for byte, determinism, and the CLI's bad-input messages.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { distillCommand } from '../../src/cli/commands/distill.ts';
import { loadCocoDensePose } from '../../src/data/coco-densepose.ts';
import { decodeMask } from '../../src/data/mask.ts';
import type { Rle } from '../../src/data/mask.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { tensorsToNdArrays, writeSafetensors } from '../../src/runtime/checkpoint/index.ts';
import { distill, FINE_TO_COARSE, loadTeacher, mergeShardFiles } from '../../src/train/distill/index.ts';
import { synthFlipSymmetry } from '../../src/train/synth-symmetry.ts';
import { syntheticImage, tinyModelFile } from '../infer/helpers.ts';

let teacher: string;
let images: string;
let dir: string;
const TRANSFORMS = { flip: true, scales: [64, 96] };

beforeAll(async () => {
  teacher = await tinyModelFile();
  // wasm runs the tiny teacher ~10× faster than the cpu backend.
  await initBackend({ backend: 'wasm' });
  dir = mkdtempSync(join(tmpdir(), 'dp-distill-'));
  images = join(dir, 'images');
  mkdirSync(join(images, 'sub'), { recursive: true });
  for (const [i, name] of ['c.png', 'a.png', 'b.jpg'].entries()) {
    const im = syntheticImage(64, 96, i + 3);
    const s = sharp(im.data, { raw: { width: 64, height: 96, channels: 3 } });
    await (name.endsWith('.png') ? s.png() : s.jpeg()).toFile(join(images, name));
  }
  writeFileSync(join(images, 'notes.txt'), 'not an image');
  writeFileSync(join(images, 'sub', 'd.png'), 'ignored without --recursive');
}, 60_000);

async function capture(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: await run(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('distill', () => {
  let whole: string;

  it('writes valid COCO-DensePose pseudo-labels with per-point confidence', async () => {
    whole = join(dir, 'whole.json');
    const before = tf.memory().numTensors;
    const { labels, failed } = await distill({ teacher, images, out: whole, transforms: TRANSFORMS, symmetry: synthFlipSymmetry, score: 0.3, maxPoints: 120, keepEmptyImages: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(failed).toEqual([]);
    const ds = await loadCocoDensePose(whole, { imageDir: images, onSkip: (im, why) => expect.fail(`${im.file_name}: ${why}`) });
    expect(ds.images.map((im) => [im.id, im.file_name, im.width, im.height])).toEqual([
      [1, 'a.png', 64, 96],
      [2, 'b.jpg', 64, 96],
      [3, 'c.png', 64, 96],
    ]);
    expect(ds.data.categories).toEqual([{ id: 1, name: 'person', supercategory: 'person' }]);
    expect(labels.distill).toMatchObject({ transforms: 'flip,scales=64,96', score: 0.3, imageCount: 3 });
    expect(ds.data.annotations.length).toBeGreaterThanOrEqual(3);
    expect(ds.data.annotations.map((a) => a.id)).toEqual(ds.data.annotations.map((_, i) => i + 1));
    let withPoints = 0;
    for (const a of ds.data.annotations) {
      expect(a.score).toBeGreaterThanOrEqual(0.3);
      const [x, y, w, h] = a.bbox;
      expect(x >= 0 && y >= 0 && x + w <= 64.01 && y + h <= 96.01 && w >= 1 && h >= 1).toBe(true);
      if (!a.dp_I) continue;
      withPoints++;
      const conf = a.dp_conf as number[];
      expect(conf.length).toBe(a.dp_I.length);
      expect(a.dp_I.length).toBeGreaterThan(0);
      expect(a.dp_I.length).toBeLessThanOrEqual(120);
      for (const c of conf) expect(c > 0 && c <= 1).toBe(true);
      // Every point's part agrees with the coarse mask under it.
      const masks = a.dp_masks!.map((m) => (Array.isArray(m) || !m ? null : decodeMask(m as Rle)));
      a.dp_I.forEach((I, k) => {
        const m = masks[FINE_TO_COARSE[I]! - 1];
        expect(m).not.toBeNull();
        const px = Math.min(255, Math.floor((a.dp_x![k]! / 255) * 256)), py = Math.min(255, Math.floor((a.dp_y![k]! / 255) * 256));
        expect(m![py * 256 + px]).toBe(1);
      });
    }
    expect(withPoints).toBeGreaterThan(0);
  }, 120_000);

  it('is deterministic, and two shards merged equal the unsharded run byte for byte (CLI)', async () => {
    const again = join(dir, 'again.json');
    await distill({ teacher, images, out: again, transforms: TRANSFORMS, symmetry: synthFlipSymmetry, score: 0.3, maxPoints: 120, keepEmptyImages: true });
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(whole, 'utf8'));
    const common = ['--teacher', teacher, '--images', images, '--transforms', 'flip,scales=64,96', '--score', '0.3', '--max-points', '120', '--keep-empty', '--backend', 'wasm'];
    for (const i of [1, 0]) {
      const r = await capture(() => distillCommand([...common, '--shard', `${i}/2`, '--out', join(dir, `shard${i}.json`)]));
      expect(r.code).toBe(0);
    }
    const shard1 = JSON.parse(readFileSync(join(dir, 'shard1.json'), 'utf8'));
    expect(shard1.images.map((im: { file_name: string }) => im.file_name)).toEqual(['b.jpg']);
    expect(shard1.distill.shard).toEqual({ index: 1, count: 2 });
    const merged = join(dir, 'merged.json');
    const r = await capture(() => distillCommand(['merge', join(dir, 'shard1.json'), join(dir, 'shard0.json'), '--out', merged]));
    expect(r.code).toBe(0);
    expect(readFileSync(merged, 'utf8')).toBe(readFileSync(whole, 'utf8'));
    // A shard set with a hole, or a shard given twice, is refused.
    expect(() => mergeShardFiles([join(dir, 'shard0.json')])).toThrow(/missing shard\(s\) 1\/2/);
    expect(() => mergeShardFiles([join(dir, 'shard0.json'), join(dir, 'shard0.json')])).toThrow(/given twice/);
    expect(() => mergeShardFiles([join(dir, 'shard0.json'), whole])).toThrow(/one of 2 shards/);
  }, 180_000);

  it('a higher threshold keeps a subset of the people', async () => {
    const strict = await distill({ teacher, images, transforms: TRANSFORMS, symmetry: synthFlipSymmetry, score: 0.99 });
    const loose = JSON.parse(readFileSync(whole, 'utf8'));
    expect(strict.labels.annotations.length).toBeLessThan(loose.annotations.length);
    for (const a of strict.labels.annotations) expect(a.score).toBeGreaterThanOrEqual(0.99);
  }, 120_000);
});

describe('loadTeacher', () => {
  it('reads a run folder: newest training checkpoint (optimiser entries skipped), config from its metadata', async () => {
    const run = join(dir, 'run');
    mkdirSync(join(run, 'checkpoints'), { recursive: true });
    const src = loadTeacher(teacher);
    const arrays = await tensorsToNdArrays(src.model.stateDict());
    arrays.set('__optimizer__.momentum.x', { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) });
    writeSafetensors(join(run, 'checkpoints', 'model_0000005.safetensors'), arrays, { config: JSON.stringify(src.config), iteration: '5' });
    writeFileSync(join(run, 'checkpoints', 'last_checkpoint'), 'model_0000005.safetensors');
    const t = loadTeacher(run);
    const want = new Map(src.model.namedParameters());
    const got = [...t.model.namedParameters()];
    expect(got.length).toBe(want.size);
    for (const [name, p] of got.filter(([n], i) => i % 25 === 0 || n === 'roi_heads.box_predictor.cls_score.bias')) {
      expect(Array.from(p.variable.dataSync()), name).toEqual(Array.from(want.get(name)!.variable.dataSync()));
    }
    t.model.dispose();
    // A checkpoint missing a parameter is refused, naming it.
    arrays.delete('roi_heads.box_predictor.cls_score.bias');
    writeSafetensors(join(run, 'checkpoints', 'model_0000005.safetensors'), arrays, { config: JSON.stringify(src.config) });
    expect(() => loadTeacher(run)).toThrow(/roi_heads\.box_predictor\.cls_score\.bias/);
    src.model.dispose();
  });
});

describe('distill CLI bad input', () => {
  it('names what is missing or wrong', async () => {
    await expect(distillCommand(['--images', images, '--out', join(dir, 'x.json')])).rejects.toThrow(/--teacher is required/);
    await expect(distillCommand(['--teacher', join(dir, 'nope'), '--images', images, '--out', join(dir, 'x.json')])).rejects.toThrow(/nope: teacher not found/);
    await expect(distillCommand(['--teacher', dir, '--images', images, '--out', join(dir, 'x.json')])).rejects.toThrow(/neither model_final.safetensors nor checkpoints\/last_checkpoint/);
    for (const bad of ['2/2', '1', 'a/b', '-1/3']) {
      await expect(distillCommand(['--teacher', teacher, '--images', images, '--out', join(dir, 'x.json'), '--shard', bad])).rejects.toThrow(/--shard: .* expected i\/n with integers 0 ≤ i < n/);
    }
    await expect(distillCommand(['--teacher', teacher, '--images', images, '--out', join(dir, 'x.json'), '--transforms', 'flip,rotate'])).rejects.toThrow(/unknown transform "rotate"\. Expected .*flip, scales=N/);
    await expect(distillCommand(['--teacher', teacher, '--images', images, '--out', join(dir, 'x.json'), '--score', '2'])).rejects.toThrow(/--score must be a number in 0\.\.1, got "2"/);
    await expect(distillCommand(['--teacher', teacher, '--images', join(dir, 'whole.json'), '--out', join(dir, 'x.json')])).rejects.toThrow(/--images must be a folder/);
    await expect(distillCommand(['merge', '--out', join(dir, 'x.json')])).rejects.toThrow(/give the shard files/);
    await expect(distillCommand(['merge', join(images, 'notes.txt'), '--out', join(dir, 'x.json')])).rejects.toThrow(/notes\.txt: malformed JSON/);
  });
});
