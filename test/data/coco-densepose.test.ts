import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadCocoDensePose, personTarget } from '../../src/data/coco-densepose.ts';

import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../src/runtime/checkpoint/test-fixtures.ts';

const GT = `${FIXTURES}/densepose_eval/gt.json`;

describe('COCO-DensePose reader', () => {
  it.skipIf(SKIP_FIXTURE_TESTS)('reads the fixture ground truth and builds per-person targets', async () => {
    const ds = await loadCocoDensePose(GT);
    expect(ds.images.length).toBe(3);
    const a = ds.data.annotations[0]!;
    const t = personTarget(a)!;
    expect(t.x.length).toBe(100);
    expect(t.x[0]).toBeCloseTo((a.dp_x![0]! / 255) * a.bbox[2], 4);
    expect(Math.max(...t.masks!)).toBeGreaterThan(0);
    expect(Math.max(...t.masks!)).toBeLessThanOrEqual(14);
  });

  it('names the annotation id and field of a bad annotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-data-'));
    const base = { images: [{ id: 1, width: 10, height: 10, file_name: 'a.png' }], categories: [{ id: 1, name: 'person' }] };
    const ann = { id: 7, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0, dp_x: [1, 2], dp_y: [1, 2], dp_I: [1, 25], dp_U: [0.1, 0.2], dp_V: [0.1, 0.2] };
    const write = (o: object) => { const p = join(dir, `${Math.random()}.json`); writeFileSync(p, JSON.stringify(o)); return p; };
    await expect(loadCocoDensePose(write({ ...base, annotations: [ann] }))).rejects.toThrow(/annotation id 7 field "dp_I": \[1\] = 25, expected an integer 1..24/);
    await expect(loadCocoDensePose(write({ ...base, annotations: [{ ...ann, dp_I: [1, 2], dp_U: [0.1] }] }))).rejects.toThrow(/annotation id 7 field "dp_U": has 1 values, dp_x has 2/);
    await expect(loadCocoDensePose(write({ ...base, annotations: [{ ...ann, dp_I: [1, 2], dp_masks: [] }] }))).rejects.toThrow(/annotation id 7 field "dp_masks": must be 14 entries/);
    await expect(loadCocoDensePose(write({ ...base, annotations: [{ ...ann, image_id: 3 }] }))).rejects.toThrow(/annotation id 7: field "image_id" 3 is not an image/);
  });

  it('reports and skips missing or corrupt images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-img-'));
    await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } }).png().toFile(join(dir, 'ok.png'));
    writeFileSync(join(dir, 'bad.png'), Buffer.from('not a png'));
    const p = join(dir, 'gt.json');
    writeFileSync(p, JSON.stringify({
      images: [{ id: 1, width: 10, height: 10, file_name: 'ok.png' }, { id: 2, width: 10, height: 10, file_name: 'bad.png' }, { id: 3, width: 10, height: 10, file_name: 'gone.png' }],
      annotations: [], categories: [{ id: 1, name: 'person' }],
    }));
    const reasons: string[] = [];
    const ds = await loadCocoDensePose(p, { imageDir: dir, onSkip: (im, r) => reasons.push(`${im.id}: ${r}`) });
    expect(ds.images.map((i) => i.id)).toEqual([1]);
    expect(reasons[0]).toMatch(/^2: does not decode/);
    expect(reasons[1]).toMatch(/^3: missing file/);
  });
});
