import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PART_COLORS, partColor } from './colormap.ts';
import { compositeIuv, wholeImageIUV } from './composite.ts';
import { drawParts } from './draw-parts.ts';
import { drawUvIsolines } from './isolines.ts';
import { drawBoxes } from './draw-boxes.ts';
import { compareSideBySide } from './compare.ts';
import { encodePng, savePng } from './png.ts';
import { makeImage, makePerson } from './test-people.ts';
import type { DensePosePerson, RgbImage } from './types.ts';

/** A person whose whole box is one part with given U/V functions of (col, row). */
function flatPerson(box: [number, number, number, number], score: number, part: number, uf: (c: number, r: number) => number, vf: (c: number, r: number) => number): DensePosePerson {
  const [, , w, h] = box;
  const labels = new Uint8Array(w * h).fill(part);
  const u = new Float32Array(w * h);
  const v = new Float32Array(w * h);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) { u[r * w + c] = uf(c, r); v[r * w + c] = vf(c, r); }
  return { box, score, densepose: { width: w, height: h, labels, u, v } };
}

function px(im: RgbImage, x: number, y: number): number[] {
  const k = 3 * (y * im.width + x);
  return [im.data[k]!, im.data[k + 1]!, im.data[k + 2]!];
}

describe('part colours', () => {
  it('24 distinct colours, background black', () => {
    const seen = new Set<string>();
    for (let i = 1; i <= 24; i++) seen.add(partColor(i).join(','));
    expect(seen.size).toBe(24);
    expect([...PART_COLORS.subarray(0, 3)]).toEqual([0, 0, 0]);
  });
});

describe('wholeImageIUV', () => {
  const a = flatPerson([2, 2, 6, 6], 0.9, 1, () => 0.25, () => 0.5);
  const b = flatPerson([5, 5, 6, 6], 0.6, 2, () => 1, () => 0);
  it('higher score wins where both are foreground, whatever the order', () => {
    for (const people of [[a, b], [b, a]]) {
      const iuv = wholeImageIUV(12, 12, people);
      const at = (x: number, y: number) => [...iuv.subarray(3 * (y * 12 + x), 3 * (y * 12 + x) + 3)];
      expect(at(6, 6)).toEqual([1, 64, 128]); // overlap → a (0.9)
      expect(at(10, 10)).toEqual([2, 255, 0]); // b only
      expect(at(3, 3)).toEqual([1, 64, 128]); // a only
      expect(at(0, 0)).toEqual([0, 0, 0]);
      expect(at(11, 2)).toEqual([0, 0, 0]);
    }
  });
  it('background of the winner does not hide the loser', () => {
    const hollow = flatPerson([2, 2, 6, 6], 0.9, 1, () => 0.5, () => 0.5);
    hollow.densepose.labels[4 * 6 + 4] = 0; // box pixel (6, 6) is background for the 0.9 person
    const iuv = wholeImageIUV(12, 12, [hollow, b]);
    expect(iuv[3 * (6 * 12 + 6)]).toBe(2);
  });
  it('clips boxes that leave the image', () => {
    const c = compositeIuv(4, 4, [flatPerson([-3, 2, 6, 6], 1, 7, () => 0, () => 0)]);
    expect([...c.labels]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 0, 7, 7, 7, 0]);
  });
  it('rejects planes that do not match the map size', () => {
    const bad = flatPerson([0, 0, 3, 3], 1, 1, () => 0, () => 0);
    bad.densepose = { ...bad.densepose, u: new Float32Array(2) };
    expect(() => wholeImageIUV(4, 4, [bad])).toThrow(/person 0.*width·height/);
  });
});

describe('drawParts', () => {
  const img = makeImage(40, 30);
  const people = [makePerson([5, 2, 20, 26], 0.9)];
  it('alpha 1 paints the exact part colours on foreground and leaves background alone', () => {
    const out = drawParts(img, people, { alpha: 1 });
    const c = compositeIuv(40, 30, people);
    for (let o = 0; o < c.labels.length; o++) {
      const got = [...out.data.subarray(3 * o, 3 * o + 3)];
      expect(got).toEqual(c.labels[o] ? partColor(c.labels[o]!) : [...img.data.subarray(3 * o, 3 * o + 3)]);
    }
  });
  it('alpha 0 is the identity and the input is not modified', () => {
    const before = new Uint8Array(img.data);
    expect(drawParts(img, people, { alpha: 0 }).data).toEqual(img.data);
    drawParts(img, people, { alpha: 0.5 });
    expect(img.data).toEqual(before);
  });
});

describe('drawUvIsolines', () => {
  /** Lines only: every part gets `levels` bands, nothing dimmed or outlined. */
  const EXACT = { minSpacing: 0, dim: 0, borderColor: null } as const;
  const black: RgbImage = { width: 20, height: 6, data: new Uint8Array(20 * 6 * 3) };
  // U = col/16 over a 16-wide box at x = 2: bands of floor(4U) change between cols 3|4, 7|8, 11|12.
  const p = flatPerson([2, 0, 16, 6], 1, 3, (c) => c / 16, () => 0.5);
  it('marks U lines exactly where U crosses k/levels', () => {
    const out = drawUvIsolines(black, [p], { ...EXACT, levels: 4, which: 'u', uColor: [255, 0, 0] });
    for (let y = 0; y < 6; y++) {
      const on = [];
      for (let x = 0; x < 20; x++) if (px(out, x, y)[0] === 255) on.push(x);
      expect(on).toEqual([2 + 3, 2 + 7, 2 + 11]);
    }
  });
  it('constant V draws no V lines; lines stop at part borders', () => {
    expect(drawUvIsolines(black, [p], { ...EXACT, levels: 4, which: 'v' }).data).toEqual(black.data);
    // Two parts side by side with different U: the border is not a contour.
    const q = flatPerson([0, 0, 8, 2], 1, 3, () => 0.1, () => 0.1);
    for (let r = 0; r < 2; r++) for (let c = 4; c < 8; c++) { q.densepose.labels[r * 8 + c] = 4; q.densepose.u[r * 8 + c] = 0.9; }
    expect(drawUvIsolines(black, [q], { ...EXACT, levels: 4 }).data).toEqual(black.data);
  });
});

describe('drawBoxes / compareSideBySide', () => {
  const img: RgbImage = { width: 60, height: 50, data: new Uint8Array(60 * 50 * 3).fill(255) };
  const p = flatPerson([10, 20, 30, 25], 0.87, 1, () => 0, () => 0);
  it('outlines the box in its colour and writes the score tab above it', () => {
    const out = drawBoxes(img, [p], { color: '#ff0000', lineWidth: 2 });
    expect(px(out, 25, 20)).toEqual([255, 0, 0]); // top edge
    expect(px(out, 40, 35)).toEqual([255, 0, 0]); // right edge
    expect(px(out, 25, 35)).toEqual([255, 255, 255]); // inside untouched
    // Tab above the box: red background with dark text pixels.
    let dark = 0;
    for (let y = 4; y < 19; y++) for (let x = 10; x < 40; x++) if (px(out, x, y)[0]! < 100) dark++;
    expect(dark).toBeGreaterThan(10);
  });
  it('puts panels side by side under titles', () => {
    const a = makeImage(30, 20);
    const b = makeImage(25, 28);
    const out = compareSideBySide([a, b], ['baseline', 'ours'], { gap: 5, fontSize: 10 });
    const titleH = 18;
    expect([out.width, out.height]).toEqual([60, titleH + 28]);
    expect(px(out, 7, titleH + 9)).toEqual(px(a, 7, 9));
    expect(px(out, 35 + 24, titleH + 27)).toEqual(px(b, 24, 27));
    expect(px(out, 32, titleH + 5)).toEqual([255, 255, 255]); // gap
    let ink = 0;
    for (let y = 0; y < titleH; y++) for (let x = 0; x < 60; x++) if (px(out, x, y)[0]! < 128) ink++;
    expect(ink).toBeGreaterThan(10);
    expect(() => compareSideBySide([a, b], ['one'])).toThrow(/one title per image/);
  });
});

describe('png', () => {
  it('savePng writes atomically and round-trips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vis-png-'));
    const img = makeImage(7, 5);
    await savePng(join(dir, 'a.png'), img);
    expect(readdirSync(dir)).toEqual(['a.png']);
    const { data, info } = await sharp(join(dir, 'a.png')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([7, 5, 3]);
    expect(new Uint8Array(data)).toEqual(img.data);
    await expect(encodePng({ width: 2, height: 2, data: new Uint8Array(5) })).rejects.toThrow(/expected 2·2·3/);
  });
});
