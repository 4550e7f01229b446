import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/runtime/checkpoint/npy.ts';
import {
  boxesToRle, bboxIou, compressRle, pasteMaskRuns, countsToString, decodeMask, encodeMask, encodeMaskRuns, mergeRles, polygonsToRle,
  rleArea, rleFromCounts, rleIou, rleToBbox, segmentationToRle, stringToCounts, uncompressRle,
} from '../../src/data/mask.ts';
import type { BoxXywh } from '../../src/data/mask.ts';
import { DensePoseError } from '../../src/errors.ts';

import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../src/runtime/checkpoint/test-fixtures.ts';

const DIR = join(FIXTURES, 'coco');
type MaskCase = { name: string; file: string; size: [number, number]; counts: string; area: number; bbox_xywh: BoxXywh };
const golden = (SKIP_FIXTURE_TESTS ? { masks: [], ops: {} } : JSON.parse(readFileSync(join(DIR, 'masks.json'), 'utf8'))) as {
  masks: MaskCase[];
  ops: {
    iou: { dt_files: string[]; gt_files: string[]; iscrowd: number[]; iou_dt_by_gt: number[][] };
    merge_union_gt0_gt1: string; merge_intersection_gt0_gt1: string; merge_size: [number, number];
    polygons: { poly: number[]; h: number; w: number; counts: string; area: number }[];
    boxes: { bbox_xywh: BoxXywh; h: number; w: number; counts: string; area: number }[];
  };
};

function loadMask(file: string): { mask: Uint8Array; h: number; w: number } {
  const a = readNpy(join(DIR, file));
  expect(a.dtype).toBe('uint8');
  const [h, w] = a.shape as [number, number];
  return { mask: a.data as Uint8Array, h, w };
}

/** Small deterministic PRNG so property tests are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.skipIf(SKIP_FIXTURE_TESTS)('mask API against pycocotools goldens', () => {
  for (const c of golden.masks) {
    it(`encode/decode/area/bbox: ${c.name}`, () => {
      const { mask, h, w } = loadMask(c.file);
      expect([h, w]).toEqual(c.size);
      const rle = encodeMask(mask, h, w);
      expect(rle.counts).toBe(c.counts);
      expect(rle.size).toEqual(c.size);
      expect(rleArea(rle)).toBe(c.area);
      const bb = rleToBbox({ size: c.size, counts: c.counts });
      for (let i = 0; i < 4; i++) expect(Math.abs(bb[i]! - c.bbox_xywh[i]!)).toBeLessThanOrEqual(1e-6);
      const back = decodeMask(rle);
      let diff = 0;
      for (let i = 0; i < back.length; i++) if (back[i] !== (mask[i] ? 1 : 0)) diff++;
      expect(diff).toBe(0);
    });
  }

  it('iou matrix with iscrowd', () => {
    const op = golden.ops.iou;
    const enc = (f: string) => { const m = loadMask(f); return encodeMask(m.mask, m.h, m.w); };
    const dt = op.dt_files.map(enc), gt = op.gt_files.map(enc);
    const iou = rleIou(dt, gt, op.iscrowd.map(Boolean));
    op.iou_dt_by_gt.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(iou[i * gt.length + j]! - v)).toBeLessThanOrEqual(1e-6)));
  });

  it('merge union and intersection', () => {
    const g0 = loadMask('iou_gt0.npy'), g1 = loadMask('iou_gt1.npy');
    const r = [encodeMask(g0.mask, g0.h, g0.w), encodeMask(g1.mask, g1.h, g1.w)];
    expect(mergeRles(r).counts).toBe(golden.ops.merge_union_gt0_gt1);
    expect(mergeRles(r, true).counts).toBe(golden.ops.merge_intersection_gt0_gt1);
  });

  it('polygons and boxes', () => {
    for (const p of golden.ops.polygons) {
      const [rle] = polygonsToRle([p.poly], p.h, p.w);
      expect(rle!.counts).toBe(p.counts);
      expect(rleArea(rle!)).toBe(p.area);
    }
    for (const b of golden.ops.boxes) {
      const [rle] = boxesToRle([b.bbox_xywh], b.h, b.w);
      expect(rle!.counts).toBe(b.counts);
      expect(rleArea(rle!)).toBe(b.area);
    }
  });

  // Its speed is `npm run bench -- eval`'s figure, not a timed test (a loaded CI machine made a 100 ms bound flaky).
  it('round-trips a full-HD mask exactly', () => {
    const { mask, h, w } = loadMask('mask_blob_1080x1920.npy');
    const back = decodeMask(encodeMask(mask, h, w));
    expect(back.length).toBe(mask.length);
    let diff = 0;
    for (let i = 0; i < mask.length; i++) if ((back[i]! !== 0) !== (mask[i]! !== 0)) diff++;
    expect(diff).toBe(0);
  });
});

describe('mask API properties', () => {
  it('round-trips random masks through compressed and uncompressed forms', () => {
    const r = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const h = 1 + Math.floor(r() * 40), w = 1 + Math.floor(r() * 40);
      const p = r();
      const mask = new Uint8Array(h * w);
      for (let i = 0; i < mask.length; i++) mask[i] = r() < p ? 1 : 0;
      const rle = encodeMask(mask, h, w);
      expect(Array.from(decodeMask(rle))).toEqual(Array.from(mask));
      const un = uncompressRle(rle);
      expect(compressRle(un).counts).toBe(rle.counts);
      expect(rleFromCounts(un.counts, h, w).counts).toBe(rle.counts);
      expect(Array.from(stringToCounts(countsToString(encodeMaskRuns(mask, h, w).counts)))).toEqual(un.counts);
      let area = 0;
      for (const v of mask) area += v;
      expect(rleArea(rle)).toBe(area);
    }
  });

  it('iou is symmetric without crowd, 1 on itself, and crowd divides by detection area', () => {
    const r = rng(11);
    const masks = Array.from({ length: 6 }, () => {
      const m = new Uint8Array(30 * 20);
      const x0 = Math.floor(r() * 15), y0 = Math.floor(r() * 20), x1 = x0 + 1 + Math.floor(r() * 5), y1 = y0 + 1 + Math.floor(r() * 10);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * 20 + x] = 1;
      return encodeMask(m, 30, 20);
    });
    const n = masks.length;
    const a = rleIou(masks, masks, new Array(n).fill(false));
    for (let i = 0; i < n; i++) {
      expect(a[i * n + i]).toBe(1);
      for (let j = 0; j < n; j++) expect(a[i * n + j]).toBeCloseTo(a[j * n + i]!, 12);
    }
    // a detection inside a crowd region scores 1
    const inner = new Uint8Array(30 * 20), outer = new Uint8Array(30 * 20);
    for (let y = 5; y < 25; y++) for (let x = 2; x < 18; x++) outer[y * 20 + x] = 1;
    for (let y = 8; y < 12; y++) for (let x = 4; x < 9; x++) inner[y * 20 + x] = 1;
    expect(rleIou([encodeMask(inner, 30, 20)], [encodeMask(outer, 30, 20)], [true])[0]).toBe(1);
    const boxes: BoxXywh[] = [[0, 0, 10, 10], [5, 5, 10, 10], [20, 20, 2, 2]];
    const b = bboxIou(boxes, boxes, [0, 0, 0]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(b[i * 3 + j]).toBeCloseTo(b[j * 3 + i]!, 12);
    expect(b[1]).toBeCloseTo(25 / 175, 12);
    expect(bboxIou([[6, 6, 2, 2]], [[0, 0, 10, 10]], [1])[0]).toBe(1);
  });

  it('merge equals pixelwise or/and', () => {
    const r = rng(3);
    const h = 17, w = 23;
    const ms = [0, 1, 2].map(() => Uint8Array.from({ length: h * w }, () => (r() < 0.4 ? 1 : 0)));
    const rles = ms.map((m) => encodeMask(m, h, w));
    const or = ms[0]!.map((_, i) => ms[0]![i]! | ms[1]![i]! | ms[2]![i]!);
    const and = ms[0]!.map((_, i) => ms[0]![i]! & ms[1]![i]! & ms[2]![i]!);
    expect(mergeRles(rles).counts).toBe(encodeMask(or, h, w).counts);
    expect(mergeRles(rles, true).counts).toBe(encodeMask(and, h, w).counts);
  });

  it('segmentation field: polygon list is merged, RLE passes through', () => {
    const polys = [[1, 1, 8, 1, 8, 8, 1, 8], [12, 12, 18, 12, 18, 18]];
    const rle = segmentationToRle(polys, 20, 20);
    expect(rle.counts).toBe(mergeRles(polygonsToRle(polys, 20, 20)).counts);
    expect(segmentationToRle(uncompressRle(rle), 20, 20).counts).toBe(rle.counts);
  });

  it('rejects malformed RLEs with a clear error', () => {
    expect(() => decodeMask({ size: [2, 2], counts: [1, 2] })).toThrow(/cover 3 pixels.*has 4/);
    expect(() => stringToCounts('0\x7f')).toThrow(DensePoseError);
    expect(() => stringToCounts('0\\')).toThrow(/ends inside a count/);
    expect(() => encodeMask(new Uint8Array(5), 2, 2)).toThrow(/5 values/);
    expect(() => mergeRles([{ size: [2, 2], counts: [4] }, { size: [1, 4], counts: [4] }])).toThrow(/SHAPE|2×2/);
    expect(() => segmentationToRle([[1, 2]], 5, 5, 'annotation 7 segmentation')).toThrow(/annotation 7 segmentation/);
  });
});

describe('pasteMaskRuns', () => {
  it('equals encoding the pasted image, with clipping on every side', () => {
    const r = rng(5);
    for (let trial = 0; trial < 100; trial++) {
      const H = 1 + Math.floor(r() * 12), W = 1 + Math.floor(r() * 12);
      const mh = 1 + Math.floor(r() * 8), mw = 1 + Math.floor(r() * 8);
      const x = Math.floor(r() * (W + 8)) - 6, y = Math.floor(r() * (H + 8)) - 6;
      const m = Uint8Array.from({ length: mh * mw }, () => (r() < 0.5 ? 1 : 0));
      const img = new Uint8Array(H * W);
      for (let yy = 0; yy < mh; yy++) for (let xx = 0; xx < mw; xx++) {
        const X = x + xx, Y = y + yy;
        if (X >= 0 && X < W && Y >= 0 && Y < H) img[Y * W + X] = m[yy * mw + xx]!;
      }
      expect(countsToString(pasteMaskRuns(m, mh, mw, x, y, H, W).counts)).toBe(encodeMask(img, H, W).counts);
    }
  });
});
