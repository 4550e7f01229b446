// `densepose eval --report points` on a tiny case whose answer is known by hand.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../src/cli/commands/eval.ts';
import type { CocoDataset } from '../../src/data/coco.ts';
import { FINE_PART_NAMES } from '../../src/data/parts.ts';
import { encodeIuv, type DensePoseDetection } from '../../src/eval/densepose-results.ts';
import { pointReport } from '../../src/eval/point-report.ts';
import { drawConfusion } from '../../src/vis/confusion.ts';
import { parula } from '../../src/vis/colormap.ts';

// Detection = GT box [10,10,20,20]: parts 1 (left half) / 2 (right half), U 0.4, V 0.6, bottom row background.
const W = 20, H = 20;
const iuv = new Uint8Array(3 * W * H);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const o = y * W + x;
    if (y === H - 1) continue;
    iuv[o] = x < 10 ? 1 : 2;
    iuv[W * H + o] = 102; // 0.4
    iuv[2 * W * H + o] = 153; // 0.6
  }
}
const det: DensePoseDetection = { image_id: 1, category_id: 1, bbox: [10, 10, 20, 20], score: 0.9, id: 1, area: 400, index: 0, iuv: { width: W, height: H, data: iuv } };
// Person 1 (matched): dp_x 51 → px 4 (left), 204 → 16 (right); dp_y 242.25 → py 19 (background row).
//   p0 left I=1 U .4 V .6 → right, ΔU 0, ΔV 0
//   p1 left I=2         → wrong part, same coarse part (torso)
//   p2 right I=2 U .15 V .7 → right, ΔU .25, ΔV .1
//   p3 right, bottom row, I=3 → background
// Person 2 (no detection overlaps it): 2 points → background.
const gt: CocoDataset = {
  images: [{ id: 1, width: 100, height: 100, file_name: 'a.png' }],
  categories: [{ id: 1, name: 'person' }],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 20, 20], area: 400, iscrowd: 0, dp_x: [51, 51, 204, 204], dp_y: [51, 100, 51, 242.25], dp_I: [1, 2, 2, 3], dp_U: [0.4, 0.4, 0.15, 0.5], dp_V: [0.6, 0.6, 0.7, 0.5] },
    { id: 2, image_id: 1, category_id: 1, bbox: [60, 60, 20, 20], area: 400, iscrowd: 0, dp_x: [100, 150], dp_y: [100, 150], dp_I: [23, 24], dp_U: [0.5, 0.5], dp_V: [0.5, 0.5] },
  ],
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('point report', () => {
  it('part / coarse-part accuracy, background rate, |ΔU| |ΔV| where right, confusion counts', () => {
    const r = pointReport(gt, [det]);
    expect([r.points, r.people, r.matchedPeople]).toEqual([6, 2, 1]);
    expect(r.partAccuracy).toBeCloseTo(2 / 6, 12);
    expect(r.coarsePartAccuracy).toBeCloseTo(3 / 6, 12);
    expect(r.backgroundRate).toBeCloseTo(3 / 6, 12);
    expect(r.meanAbsDU).toBeCloseTo((0 + 0.25) / 2, 6);
    expect(r.meanAbsDV).toBeCloseTo((0 + 0.1) / 2, 6);
    const nonzero: [number, number, number][] = [];
    r.confusion.forEach((n, k) => n && nonzero.push([Math.floor(k / 25), k % 25, n]));
    expect(nonzero).toEqual([[1, 1, 1], [2, 1, 1], [2, 2, 1], [3, 0, 1], [23, 0, 1], [24, 0, 1]]);
    // A detection below the IoU threshold is not read: everything becomes background.
    const off = pointReport(gt, [{ ...det, bbox: [20, 20, 20, 20] }], { iouThreshold: 0.5 });
    expect([off.matchedPeople, off.backgroundRate, off.partAccuracy]).toEqual([0, 1, 0]);
  });

  it('draws the matrix with row shares (a perfect diagonal is the top colour of the ramp)', () => {
    const counts = new Uint32Array(3 * 3);
    counts[0] = 5;
    counts[4] = 2;
    counts[6] = 2;
    counts[7] = 2; // row 2: half in column 0, half in column 1
    const img = drawConfusion(counts, ['a', 'b', 'c'], ['a', 'b', 'c'], { cell: 30 });
    const px = (x: number, y: number) => Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));
    // cell (0,0) at left 170, top 190; sample near its corner (away from the text and the outline)
    expect(px(170 + 5, 190 + 5)).toEqual(parula(1));
    expect(px(170 + 30 + 5, 190 + 60 + 5)).toEqual(parula(0.5));
    expect(px(170 + 60 + 5, 190 + 5)).toEqual([255, 255, 255]);
  });

  it('densepose eval --report points prints the figures and writes the confusion PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-points-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
    writeFileSync(join(dir, 'pred.json'), JSON.stringify([{ image_id: 1, category_id: 1, bbox: det.bbox, score: det.score, ...(await encodeIuv(det.iuv)) }]));
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      expect(await evalCommand(['--gt', join(dir, 'gt.json'), '--pred', join(dir, 'pred.json'), '--mode', 'bbox', '--report', 'points'])).toBe(0);
      expect(await evalCommand(['--gt', join(dir, 'gt.json'), '--pred', join(dir, 'pred.json'), '--mode', 'bbox', '--report', 'points', '--json', '--confusion', join(dir, 'c2.png')])).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(out[0]).toMatch(/part accuracy\s+= 33\.3 %/);
    expect(out[0]).toMatch(/coarse-part accuracy = 50\.0 %/);
    expect(out[0]).toMatch(/predicted background = 50\.0 %/);
    expect(out[0]).toMatch(/mean \|ΔU\| \(part right\) = 0\.125/);
    expect(out[0]).toMatch(/torso front → torso back: 1/);
    const json = JSON.parse(out[1]!);
    expect(json.points).toMatchObject({ points: 6, partAccuracy: 2 / 6, confusionImage: join(dir, 'c2.png') });
    expect(json.points.confusion[2][1]).toBe(1);
    const meta = await sharp(join(dir, 'confusion.png')).metadata();
    expect(meta.width).toBeGreaterThan(25 * 28);
    expect(meta.height).toBeGreaterThan(24 * 28);
    await expect(evalCommand(['--gt', join(dir, 'gt.json'), '--pred', join(dir, 'pred.json'), '--report', 'pixels'])).rejects.toThrow(/Unknown --report "pixels"\. Expected one of: points/);
    expect(FINE_PART_NAMES.length).toBe(25);
  });
});
