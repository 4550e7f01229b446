// Dense pseudo-labels round trip: what `distill` fused for each person (I, U, V, confidence on the box's
// grid) comes back from its dp_dense PNG through the training loader, pixel for pixel.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as DenseIuvModule from '../../src/data/dense-iuv.ts';
import type { DenseIuv } from '../../src/data/dense-iuv.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { loadTrainingSet } from '../../src/train/datasets.ts';
import { distill } from '../../src/train/distill/index.ts';
import { DataLoader } from '../../src/train/loader.ts';
import { synthFlipSymmetry } from '../../src/train/synth-symmetry.ts';
import { syntheticImage, tinyModelFile } from '../infer/helpers.ts';

// Capture every map distill encodes (the fused chart, before 8-bit quantisation).
const written: DenseIuv[] = [];
vi.mock('../../src/data/dense-iuv.ts', async (importOriginal) => {
  const mod = await importOriginal<typeof DenseIuvModule>();
  return {
    ...mod,
    encodeDenseIuvPng: (map: DenseIuv) => {
      written.push({ ...map, i: map.i.slice(), u: map.u.slice(), v: map.v.slice(), confidence: map.confidence!.slice() });
      return mod.encodeDenseIuvPng(map);
    },
  };
});

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dp-distill-dense-'));
  mkdirSync(join(dir, 'images'));
  for (const i of [0, 1]) {
    const im = syntheticImage(64, 96, i + 11);
    await sharp(im.data, { raw: { width: 64, height: 96, channels: 3 } }).png().toFile(join(dir, 'images', `${i}.png`));
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dense pseudo-labels', () => {
  it('distill → dp_dense PNG → loader keeps every pixel\'s I, U, V and confidence', async () => {
    const teacher = await tinyModelFile();
    await initBackend({ backend: 'wasm' });
    const out = join(dir, 'pseudo.json'); // the training loader finds images/ beside it
    const { labels } = await distill({ teacher, images: join(dir, 'images'), out, transforms: { flip: true, scales: [64] }, symmetry: synthFlipSymmetry, score: 0.3 });
    const dense = labels.annotations.filter((a) => a.dp_dense);
    expect(dense.length).toBeGreaterThan(0);
    expect(dense.length).toBe(written.length);
    expect(dense.length).toBe(labels.annotations.filter((a) => a.dp_I).length);
    for (const a of dense) expect(a.dp_dense!.region).toEqual(a.bbox);
    // Through the training loader: one batch slot per image, no flip, no jitter.
    const set = await loadTrainingSet(out);
    const people = set.images.flatMap((im) => im.people);
    expect(people.every((p) => p.denseSource)).toBe(true);
    const loader = new DataLoader({ datasets: [{ ...set, images: set.images }], batchSize: 1, seed: 0, prefetch: 0, augment: { minSizes: [96], maxSize: 200, colorJitter: 0 } });
    const seen = new Map<number, DenseIuv[]>();
    for (let it = 0; seen.size < set.images.length && it < 50; it++) {
      const [s] = await loader.batch(it);
      seen.set(s!.imageId, s!.people.map((p) => p.densepose!.dense!));
    }
    expect(seen.size).toBe(set.images.length);
    // Annotation order = write order (images in id order, people in order).
    const loaded = [...seen.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, maps]) => maps);
    expect(loaded.length).toBe(written.length);
    loaded.forEach((got, k) => {
      const want = written[k]!;
      expect([got.width, got.height]).toEqual([want.width, want.height]);
      expect(Array.from(got.i)).toEqual(Array.from(want.i));
      let du = 0, dv = 0, dc = 0;
      for (let p = 0; p < got.i.length; p++) {
        if (want.i[p]) {
          du = Math.max(du, Math.abs(got.u[p]! - want.u[p]!));
          dv = Math.max(dv, Math.abs(got.v[p]! - want.v[p]!));
        }
        dc = Math.max(dc, Math.abs(got.confidence![p]! - want.confidence![p]!));
      }
      // 8-bit planes: within half a step of 1/255
      expect(Math.max(du, dv, dc)).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    });
  }, 180_000);
});
