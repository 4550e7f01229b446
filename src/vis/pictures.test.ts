import { describe, expect, it } from 'vitest';
import { parula, partColor } from './colormap.ts';
import { compositeIuv, personMask } from './composite.ts';
import { drawChart } from './draw-charts.ts';
import { drawBoxes } from './draw-boxes.ts';
import { placeLabels, type Rect } from './label-placement.ts';
import { drawUvIsolines } from './isolines.ts';
import { drawPartLegend, partLegendLayout, withPartLegend } from './legend.ts';
import { PART_NAMES, partName } from './part-names.ts';
import { makeImage, makePerson } from './test-people.ts';
import type { RgbImage } from './types.ts';

const px = (im: RgbImage, x: number, y: number) => [...im.data.subarray(3 * (y * im.width + x), 3 * (y * im.width + x) + 3)];

describe('part legend', () => {
  it('names the 24 parts as DESIGN.md §1 does', () => {
    expect(PART_NAMES).toHaveLength(24);
    expect(new Set(PART_NAMES).size).toBe(24);
    expect([partName(1), partName(2), partName(3), partName(15), partName(24), partName(0)]).toEqual(['torso back', 'torso front', 'right hand', 'upper arm L inside', 'head left', 'background']);
  });

  it('draws a swatch of each part colour, with its label text beside it', () => {
    const layout = partLegendLayout();
    const legend = drawPartLegend();
    expect([legend.width, legend.height]).toEqual([layout.width, layout.height]);
    layout.swatches.forEach((s, i) => {
      expect(px(legend, s.x + Math.floor(s.size / 2), s.y + Math.floor(s.size / 2)), `swatch of part ${i + 1}`).toEqual(partColor(i + 1));
      // Text: dark pixels in the row to the right of the swatch.
      let dark = 0;
      for (let x = s.x + s.size + 4; x < s.x + s.size + 40 && x < legend.width; x++) for (let y = s.y; y < s.y + s.size; y++) if (px(legend, x, y)[0]! < 100) dark++;
      expect(dark, `label of part ${i + 1}`).toBeGreaterThan(3);
    });
    // Swatches do not overlap.
    for (let i = 0; i < 24; i++) for (let j = i + 1; j < 24; j++) {
      const a = layout.swatches[i]!, b = layout.swatches[j]!;
      expect(a.x + a.size <= b.x || b.x + b.size <= a.x || a.y + a.size <= b.y || b.y + b.size <= a.y).toBe(true);
    }
  });

  it('sits to the right of a picture, fitted to its height, the picture untouched', () => {
    const img = makeImage(200, 240);
    const out = withPartLegend(img);
    expect(out.height).toBe(240);
    expect(out.width).toBeGreaterThan(200);
    for (const [x, y] of [[0, 0], [199, 239], [100, 120]] as const) expect(px(out, x, y)).toEqual(px(img, x, y));
    const layout = partLegendLayout({ height: 240 });
    const s = layout.swatches[23]!;
    expect(px(out, 200 + s.x + 1, s.y + 1)).toEqual(partColor(24));
  });
});

describe('score labels', () => {
  const disjoint = (r: Rect[]) => r.every((a, i) => r.every((b, j) => i === j || a[0] + a[2] <= b[0] || b[0] + b[2] <= a[0] || a[1] + a[3] <= b[1] || b[1] + b[3] <= a[1]));
  it('clustered boxes get tabs that do not overlap, inside the image', () => {
    const boxes: [number, number, number, number][] = [[20, 30, 50, 100], [23, 32, 50, 100], [26, 30, 48, 98], [21, 35, 52, 90], [80, 30, 40, 90]];
    const tabs = placeLabels(boxes, boxes.map(() => [30, 16]), 160, 140);
    expect(disjoint(tabs)).toBe(true);
    for (const [x, y, w, h] of tabs) expect(x >= 0 && y >= 0 && x + w <= 160 && y + h <= 140).toBe(true);
    // The first box keeps the usual place: above its top-left corner.
    expect(tabs[0]).toEqual([20, 14, 30, 16]);
  });
  it('drawBoxes writes every score where boxes cluster', () => {
    const img: RgbImage = { width: 120, height: 100, data: new Uint8Array(120 * 100 * 3).fill(255) };
    const people = [0.95, 0.9, 0.85].map((s, i) => makePerson([30 + 2 * i, 30 + i, 40, 60], s));
    const out = drawBoxes(img, people, { color: '#ff0000' });
    // Three separate red tabs: count connected red runs on rows above/inside the cluster's top.
    let tabsSeen = 0;
    for (let y = 0; y < 100; y++) {
      let run = 0;
      for (let x = 0; x < 120; x++) {
        const [r, g] = px(out, x, y);
        run = r! > 200 && g! < 60 ? run + 1 : 0;
        if (run === 20) tabsSeen++;
      }
    }
    expect(tabsSeen).toBeGreaterThanOrEqual(3);
  });
});

describe('U and V pictures', () => {
  it('drawChart colours each foreground pixel by its U on the parula ramp, background untouched', () => {
    const img: RgbImage = { width: 50, height: 100, data: new Uint8Array(50 * 100 * 3) };
    const p = makePerson([0, 0, 50, 100], 0.9);
    const out = drawChart(img, [p], 'u', { alpha: 1 });
    const c = compositeIuv(50, 100, [p]);
    for (let o = 0; o < 5000; o += 37) {
      const want = c.labels[o] ? parula(Math.round(255 * c.u[o]!) / 255) : [0, 0, 0];
      expect(px(out, o % 50, Math.floor(o / 50))).toEqual(want);
    }
  });

  it('isolines: a small part gets no lines, a large one lines at least minSpacing apart', () => {
    const black: RgbImage = { width: 200, height: 40, data: new Uint8Array(200 * 40 * 3) };
    // One part spanning U = 0..1 over 200 columns and one over 8 columns.
    const big = makePerson([0, 0, 200, 40], 0.9);
    big.densepose.labels.fill(2);
    for (let o = 0; o < 200 * 40; o++) big.densepose.u[o] = (o % 200) / 200;
    const out = drawUvIsolines(black, [big], { which: 'u', uColor: [255, 0, 0], borderColor: null, minSpacing: 10 });
    const cols: number[] = [];
    for (let x = 0; x < 200; x++) if (px(out, x, 20)[0] === 255) cols.push(x);
    expect(cols.length).toBe(Math.floor(Math.sqrt(200 * 40) / 10) - 1); // 8 bands for a part ~89 px across → 7 lines
    for (let k = 1; k < cols.length; k++) expect(cols[k]! - cols[k - 1]!).toBeGreaterThanOrEqual(10);
    const small = makePerson([0, 0, 8, 8], 0.9);
    small.densepose.labels.fill(2);
    for (let o = 0; o < 64; o++) small.densepose.u[o] = (o % 8) / 8;
    const out2 = drawUvIsolines(black, [small], { which: 'u', uColor: [255, 0, 0], borderColor: null, dim: 0 });
    expect(out2.data).toEqual(black.data);
  });
});

describe('personMask', () => {
  it('is the person\'s foreground exactly as the whole-image composite pastes it', () => {
    const p = makePerson([5.3, 2.7, 30, 60], 0.8);
    const m = personMask(p, 48, 70);
    const c = compositeIuv(48, 70, [p]);
    for (let o = 0; o < m.length; o++) expect(m[o]).toBe(c.labels[o] ? 1 : 0);
  });
});
