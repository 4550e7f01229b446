// dp_dense (docs/dense-targets.md): validation messages, PNG ⇄ map, resampling onto the box, flips,
// and a synthetic set's dense labels through the training loader equal its IUV PNG on the person's pixels.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CocoAnnotation } from '../../src/data/coco.ts';
import { validateDensePoseAnnotation } from '../../src/data/coco-densepose.ts';
import { type DenseIuv, denseFromPng, encodeDenseIuvPng, flipDenseIuv, readIuvPng } from '../../src/data/dense-iuv.ts';
import { decodeMask, type Rle } from '../../src/data/mask.ts';
import { generateDataset } from '../../src/synth/index.ts';
import { loadTrainingSet } from '../../src/train/datasets.ts';
import { readDense } from '../../src/train/loader.ts';
import { synthFlipSymmetry } from '../../src/train/synth-symmetry.ts';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dp-dense-iuv-'));
  await generateDataset({ out: join(dir, 'synth'), images: 2, seed: 5, width: 160, height: 120, workers: 0, bodyRows: 40 });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: CocoAnnotation = { id: 9, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 };

describe('dp_dense', () => {
  it('validation names the annotation and sub-field', () => {
    const check = (dp_dense: unknown, extra: Partial<CocoAnnotation> = {}) => () => validateDensePoseAnnotation({ ...base, ...extra, dp_dense } as CocoAnnotation, 'gt.json');
    expect(check({ iuv: 'd/1.png', region: [0, 0, 10, 10] })).not.toThrow();
    expect(check('x')).toThrow(/gt\.json: annotation id 9 field "dp_dense": must be an object/);
    expect(check({ iuv: '/abs.png', region: [0, 0, 10, 10] })).toThrow(/field "dp_dense\.iuv": must be a PNG path relative to the annotation file/);
    expect(check({ iuv: 'a.png', region: [0, 0, 0, 10] })).toThrow(/field "dp_dense\.region": must be \[x, y, w, h\] with w, h > 0/);
    expect(check({ iuv: 'a.png', region: [0, 0, 10, 10], mask: 'box' })).toThrow(/dp_dense\.mask": Unknown mask "box"/);
    expect(check({ iuv: 'a.png', region: [0, 0, 10, 10], mask: 'segmentation' })).toThrow(/needs the annotation's segmentation as an RLE/);
    expect(check({ iuv: 'a.png', region: [0, 0, 10, 10], extra: 1 })).toThrow(/unknown key "extra"/);
  });

  it('a map spanning its box round-trips through the PNG; flip twice is the identity', async () => {
    const n = 5 * 3;
    const map: DenseIuv = {
      width: 5, height: 3,
      i: Uint8Array.from({ length: n }, (_, k) => (k % 4 === 0 ? 0 : 1 + (k % 24))),
      u: Float32Array.from({ length: n }, (_, k) => (k % 4 === 0 ? 0 : ((k * 17) % 256) / 255)),
      v: Float32Array.from({ length: n }, (_, k) => (k % 4 === 0 ? 0 : ((k * 29) % 256) / 255)),
      confidence: Float32Array.from({ length: n }, (_, k) => ((k * 41) % 256) / 255),
    };
    const file = join(dir, 'map.png');
    writeFileSync(file, await encodeDenseIuvPng(map));
    const back = denseFromPng(await readIuvPng(file), { iuv: 'map.png', region: [3.5, 2, 10, 6] }, [3.5, 2, 10, 6]);
    expect(back.width).toBe(5);
    expect(Array.from(back.i)).toEqual(Array.from(map.i));
    for (let k = 0; k < n; k++) {
      expect(back.u[k]).toBeCloseTo(map.u[k]!, 6);
      expect(back.v[k]).toBeCloseTo(map.v[k]!, 6);
      expect(back.confidence![k]).toBeCloseTo(map.confidence![k]!, 6);
    }
    const twice = flipDenseIuv(flipDenseIuv(map, synthFlipSymmetry.flipPoint), synthFlipSymmetry.flipPoint);
    expect(Array.from(twice.i)).toEqual(Array.from(map.i));
    for (let k = 0; k < n; k++) if (map.i[k]) expect(Math.abs(twice.u[k]! - map.u[k]!) + Math.abs(twice.v[k]! - map.v[k]!)).toBeLessThan(1e-5);
    // one flip mirrors the columns (and swaps left/right parts)
    const once = flipDenseIuv(map, synthFlipSymmetry.flipPoint);
    expect(once.i[0 * 5 + 4]).toBe(map.i[0] ? synthFlipSymmetry.flipPoint(map.i[0]!, map.u[0]!, map.v[0]!)[0] : 0);
  });

  it('synth writes dp_dense; the loader returns the IUV PNG on exactly the person\'s pixels of its box', async () => {
    const root = join(dir, 'synth');
    const ann = JSON.parse(readFileSync(join(root, 'annotations.json'), 'utf8')) as { annotations: CocoAnnotation[] };
    const withDp = ann.annotations.filter((a) => a.dp_I);
    expect(withDp.length).toBeGreaterThan(0);
    for (const a of withDp) expect(a.dp_dense).toEqual({ iuv: `iuv/${String(a.image_id).padStart(6, '0')}.png`, region: [0, 0, 160, 120], mask: 'segmentation' });
    const set = await loadTrainingSet(root);
    const image = set.images.find((im) => im.people.some((p) => p.denseSource))!;
    const maps = await readDense(image.people);
    const { data } = await sharp(join(root, 'iuv', `${String(image.id).padStart(6, '0')}.png`)).raw().toBuffer({ resolveWithObject: true });
    let checked = 0;
    image.people.forEach((p, k) => {
      const map = maps[k];
      if (!map) return;
      const a = ann.annotations.filter((x) => x.image_id === image.id)[k]!;
      const seg = decodeMask(a.segmentation as Rle);
      const [x0, y0, w, h] = a.bbox;
      let mineCount = 0;
      expect([map.width, map.height]).toEqual([w, h]);
      expect(map.confidence).toBeNull();
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const px = (y0 + r) * 160 + x0 + c;
          const mine = seg[px] === 1;
          expect(map.i[r * w + c]).toBe(mine ? data[3 * px] : 0);
          if (mine) {
            expect(map.u[r * w + c]).toBeCloseTo(data[3 * px + 1]! / 255, 6);
            expect(map.v[r * w + c]).toBeCloseTo(data[3 * px + 2]! / 255, 6);
            expect(map.i[r * w + c]).toBeGreaterThan(0);
            mineCount++;
          }
        }
      }
      expect(mineCount).toBe(a.area); // every visible pixel of the person, all inside its box
      checked += mineCount;
    });
    expect(checked).toBeGreaterThan(100);
  });
});
