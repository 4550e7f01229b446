// The pieces of distillation on hand-made inputs: flip round trip of chart outputs, view fusion,
// weighted box fusion, pseudo-label points/masks, option parsers.
import { describe, expect, it } from 'vitest';
import { validateDensePoseAnnotation } from '../../src/data/coco-densepose.ts';
import { decodeMask } from '../../src/data/mask.ts';
import type { Rle } from '../../src/data/mask.ts';
import type { ChartArrays } from '../../src/model/densepose/postprocess.ts';
import { FINE_TO_COARSE, flipTables, fuseBoxes, fuseCharts, parseShard, parseTransforms, pseudoAnnotation, transformViews } from '../../src/train/distill/index.ts';
import type { FusedChart } from '../../src/train/distill/index.ts';
import type { FlipSymmetry } from '../../src/train/sample.ts';
import { synthFlipSymmetry, COARSE_SWAP } from '../../src/train/synth-symmetry.ts';

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function randomChart(h: number, w: number, S: number, seed: number): ChartArrays {
  const r = rng(seed);
  const fill = (n: number, scale: number, off = 0) => Float32Array.from({ length: n }, () => off + scale * r());
  return { coarseSegm: fill(h * w * S, 6, -3), fineSegm: fill(h * w * 25, 8, -4), u: fill(h * w * 25, 1), v: fill(h * w * 25, 1), count: 1, height: h, width: w, segmChannels: S, patchChannels: 25 };
}

/** What the teacher would output on the mirrored image if it were exactly mirror-consistent (written out independently of fuseCharts). */
function mirrorChart(a: ChartArrays, sym: FlipSymmetry): ChartArrays {
  const { height: h, width: w, segmChannels: S } = a;
  const b: ChartArrays = { ...a, coarseSegm: new Float32Array(a.coarseSegm.length), fineSegm: new Float32Array(a.fineSegm.length), u: new Float32Array(a.u.length), v: new Float32Array(a.v.length) };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = y * w + x, dst = y * w + (w - 1 - x);
      for (let p = 0; p < 25; p++) {
        const [q, u, v] = p === 0 ? [0, a.u[src * 25]!, a.v[src * 25]!] : sym.flipPoint(p, a.u[src * 25 + p]!, a.v[src * 25 + p]!);
        b.fineSegm[dst * 25 + q] = a.fineSegm[src * 25 + p]!;
        b.u[dst * 25 + q] = u;
        b.v[dst * 25 + q] = v;
      }
      for (let c = 0; c < S; c++) b.coarseSegm[dst * S + (S === 15 && c > 0 ? sym.coarseSwap[c]! : c)] = a.coarseSegm[src * S + c]!;
    }
  }
  return b;
}

/** A mirror that also maps V and swaps different pairs, to exercise every branch of the un-flip. */
const toySymmetry: FlipSymmetry = {
  flipPoint: (i, u, v) => [i === 0 ? 0 : i % 2 === 1 ? i + 1 : i - 1, 1 - u, i > 12 ? 1 - v : v],
  coarseSwap: Uint8Array.from({ length: 15 }, (_, c) => (c === 0 || c > 12 ? c : c % 2 === 1 ? c + 1 : c - 1)),
};

function expectSameChart(a: FusedChart, b: FusedChart): void {
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
  for (const k of ['u', 'v', 'confidence'] as const) for (let i = 0; i < a[k].length; i++) expect(a[k][i]).toBeCloseTo(b[k][i]!, 5);
}

describe('fuseCharts', () => {
  for (const [name, sym] of [['synthetic body', synthFlipSymmetry], ['toy mirror', toySymmetry]] as const) {
    for (const S of [2, 15]) {
      it(`un-flipping a mirrored prediction gives the direct one (${name}, ${S} coarse channels)`, () => {
        const direct = randomChart(7, 5, S, 11 + S);
        const mirrored = mirrorChart(direct, sym);
        const tables = flipTables(sym);
        const a = fuseCharts([{ arrays: direct, k: 0, flipped: false }], 7, 5);
        const b = fuseCharts([{ arrays: mirrored, k: 0, flipped: true }], 7, 5, tables);
        expectSameChart(b, a);
        expect(a.labels.some((l) => l > 0)).toBe(true);
        // Both views agreeing is the same person again.
        expectSameChart(fuseCharts([{ arrays: direct, k: 0, flipped: false }, { arrays: mirrored, k: 0, flipped: true }], 7, 5, tables), a);
      });
    }
  }

  it('one view on its own grid: labels by detectron2\'s rule, U/V of the label, confidence = softmax', () => {
    const c = randomChart(4, 3, 2, 5);
    const f = fuseCharts([{ arrays: c, k: 0, flipped: false }], 4, 3);
    for (let i = 0; i < 12; i++) {
      const fine = Array.from(c.fineSegm.subarray(25 * i, 25 * i + 25));
      const best = fine.indexOf(Math.max(...fine));
      const fg = c.coarseSegm[2 * i + 1]! > c.coarseSegm[2 * i]!;
      expect(f.labels[i]).toBe(fg ? best : 0);
      const z = fine.reduce((s, x) => s + Math.exp(x), 0);
      expect(f.confidence[i]).toBeCloseTo(Math.exp(fine[best]!) / z, 6);
      if (f.labels[i]) expect(f.u[i]).toBeCloseTo(Math.min(1, Math.max(0, c.u[25 * i + best]!)), 6);
    }
  });

  it('averages probabilities across views (two views with different winners)', () => {
    const mk = (p: number, logit: number): ChartArrays => {
      const c = randomChart(1, 1, 2, 1);
      c.coarseSegm.set([0, 5]);
      c.fineSegm.fill(0);
      c.fineSegm[p] = logit;
      c.u.fill(0.2);
      c.u[p] = p === 3 ? 0.8 : 0.4;
      return c;
    };
    // View A is sure of part 3, view B mildly prefers part 5: the mean favours 3; U/V is the mean of both views' U in part 3.
    const f = fuseCharts([{ arrays: mk(3, 6), k: 0, flipped: false }, { arrays: mk(5, 1), k: 0, flipped: false }], 1, 1);
    const pa = Math.exp(6) / (Math.exp(6) + 24), pb = 1 / (Math.E + 24);
    expect(f.labels[0]).toBe(3);
    expect(f.confidence[0]).toBeCloseTo((pa + pb) / 2, 6);
    expect(f.u[0]).toBeCloseTo((0.8 + 0.2) / 2, 6);
  });

  it('refuses a symmetry that is not a mirror, and a flipped view without one', () => {
    expect(() => flipTables({ flipPoint: (i, u, v) => [i, u * 0.5, v], coarseSwap: COARSE_SWAP })).toThrow(/not a mirror/);
    expect(() => fuseCharts([{ arrays: randomChart(2, 2, 2, 1), k: 0, flipped: true }], 2, 2)).toThrow(/needs a flip symmetry/);
  });
});

describe('fuseBoxes', () => {
  it('weights coordinates by score, scores by views that found the person, keeps one box per view per cluster', () => {
    const boxes = Float32Array.of(
      10, 10, 30, 50, // view 0, person A
      12, 10, 32, 50, // view 1, person A
      11, 11, 31, 51, // view 0 again, overlapping A: a second person of view 0, never merged into A
      60, 10, 80, 50, // view 1, person B (only one view)
    );
    const f = fuseBoxes({ boxes, scores: Float32Array.of(0.9, 0.6, 0.5, 0.8), views: Int32Array.of(0, 1, 0, 1) }, { viewCount: 2 });
    expect(Array.from(f.scores)).toEqual([Math.fround(0.75), Math.fround(0.4), Math.fround(0.25)]);
    expect(Array.from(f.support)).toEqual([2, 1, 1]);
    expect(f.boxes[0]).toBeCloseTo((0.9 * 10 + 0.6 * 12) / 1.5, 4);
    expect(f.boxes[2]).toBeCloseTo((0.9 * 30 + 0.6 * 32) / 1.5, 4);
    expect(Array.from(f.boxes.subarray(4, 8))).toEqual([60, 10, 80, 50]);
  });
});

describe('pseudoAnnotation', () => {
  it('lattice points on the foreground, masks from the coarse parts, valid COCO-DensePose', () => {
    const h = 40, w = 20;
    const chart: FusedChart = { width: w, height: h, labels: new Uint8Array(h * w), u: new Float32Array(h * w), v: new Float32Array(h * w), confidence: new Float32Array(h * w) };
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = y * w + x;
      chart.labels[i] = y < 10 ? 23 : y < 30 ? (x < 10 ? 2 : 15) : 0;
      chart.u[i] = x / w;
      chart.v[i] = y / h;
      chart.confidence[i] = 0.5 + x / (2 * w);
    }
    const a = pseudoAnnotation(chart, [5, 6, 25, 46], 0.91, { id: 7, imageId: 3 }, { maxPoints: 100 });
    expect(a).toMatchObject({ id: 7, image_id: 3, category_id: 1, bbox: [5, 6, 20, 40], area: 800, iscrowd: 0, score: 0.91 });
    validateDensePoseAnnotation(a, 'test');
    const n = a.dp_I!.length;
    expect(n).toBeGreaterThan(50);
    expect(n).toBeLessThanOrEqual(100);
    expect(new Set(a.dp_I)).toEqual(new Set([23, 2, 15]));
    const masks = a.dp_masks!.map((m) => (Array.isArray(m) || !m ? null : decodeMask(m as Rle)));
    expect(masks.map((m, p) => (m ? p + 1 : 0)).filter(Boolean)).toEqual([1, 10, 14]);
    // Head is the top quarter of the box frame.
    const head = masks[13]!;
    expect(head.reduce((s, x) => s + x, 0)).toBe(64 * 256);
    for (let k = 0; k < n; k++) {
      const I = a.dp_I![k]!;
      const px = Math.floor((a.dp_x![k]! / 255) * 256), py = Math.floor((a.dp_y![k]! / 255) * 256);
      expect(masks[FINE_TO_COARSE[I]! - 1]![py * 256 + px]).toBe(1);
      expect(a.dp_U![k]).toBeCloseTo(Math.floor((a.dp_x![k]! / 255) * w) / w, 3);
      expect((a.dp_conf as number[])[k]).toBeGreaterThanOrEqual(0.5);
    }
    // Nobody there: box and score only.
    const empty = pseudoAnnotation({ ...chart, labels: new Uint8Array(h * w) }, [0, 0, 10, 10], 0.9, { id: 1, imageId: 1 });
    expect(empty.dp_I).toBeUndefined();
  });
});

describe('options', () => {
  it('parses transforms and shards, and orders views', () => {
    expect(parseTransforms('flip,scales=600,800,1000')).toEqual({ flip: true, scales: [600, 800, 1000] });
    expect(parseTransforms('scales=800,flip')).toEqual({ flip: true, scales: [800] });
    expect(parseTransforms('flip')).toEqual({ flip: true, scales: [] });
    expect(() => parseTransforms('800')).toThrow(/unknown transform "800"/);
    expect(() => parseTransforms('scales=8.5')).toThrow(/integer number of pixels/);
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['4/4', '0/0', '1/', 'x']) expect(() => parseShard(bad)).toThrow(/0 ≤ i < n/);
    expect(transformViews({ flip: true, scales: [800, 600, 800] }, 700)).toEqual([
      { scale: 800, flip: false },
      { scale: 800, flip: true },
      { scale: 600, flip: false },
      { scale: 600, flip: true },
    ]);
    expect(transformViews({ flip: false, scales: [] }, 700)).toEqual([{ scale: 700, flip: false }]);
  });
});
