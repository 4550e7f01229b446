// The data set writer: annotations agree with the rendered ground truth, outputs are
// deterministic, options are checked, and the body files read back (also through the evaluator's loader).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMask } from '../../src/data/mask.ts';
import type { Rle } from '../../src/data/mask.ts';
import { DensePoseError } from '../../src/errors.ts';
import { loadSmplBodyModel } from '../../src/eval/body-model.ts';
import { readSynthBodyModel, writeBodyModel } from '../../src/synth/body-files.ts';
import { FINE_TO_COARSE } from '../../src/synth/charts.ts';
import { generateDataset } from '../../src/synth/dataset.ts';
import { renderScene } from '../../src/synth/scene.ts';
import type { SynthAnnotation } from '../../src/synth/annotate.ts';
import { synthCommand } from '../../src/cli/commands/synth.ts';

const root = mkdtempSync(join(tmpdir(), 'synth-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const opts = { images: 3, seed: 21, width: 128, height: 96, minPeople: 2, maxPeople: 3, workers: 1, body: false } as const;

describe('generateDataset', () => {
  const outA = join(root, 'a');
  let progress = 0;
  const ready = generateDataset({ ...opts, out: outA, onProgress: (d) => { progress = d; } });

  it('annotations agree with the rendered scene: RLE = mask, bbox = extent, points and part masks', async () => {
    await ready;
    expect(progress).toBe(3);
    const ds = JSON.parse(readFileSync(join(outA, 'annotations.json'), 'utf8')) as { images: { id: number; file_name: string }[]; annotations: SynthAnnotation[] };
    expect(ds.images.map((i) => i.file_name)).toEqual(['000001.png', '000002.png', '000003.png']);
    let withDp = 0;
    for (let index = 0; index < 3; index++) {
      const scene = renderScene({ ...opts, index });
      const W = scene.width, H = scene.height;
      const anns = ds.annotations.filter((a) => a.image_id === index + 1);
      expect(anns.length).toBeGreaterThan(0);
      for (const a of anns) {
        const pid = scene.people.findIndex((p) => {
          let c = 0;
          for (let q = 0; q < W * H; q++) if (scene.instance[q] === p.id) c++;
          return c === a.area;
        });
        const id = scene.people[pid]!.id;
        const mask = decodeMask(a.segmentation);
        let x0 = W, y0 = H, x1 = -1, y1 = -1, area = 0;
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
          const on = scene.instance[y * W + x] === id;
          expect(mask[y * W + x]).toBe(on ? 1 : 0);
          if (on) { area++; x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
        }
        expect(a.bbox).toEqual([x0, y0, x1 - x0 + 1, y1 - y0 + 1]);
        expect(a.area).toBe(area);
        expect(a.keypoints.length).toBe(51);
        if (!a.dp_x) continue;
        withDp++;
        const [bx, by, bw, bh] = a.bbox;
        expect(a.dp_x.length).toBe(Math.min(100, area));
        for (const k of ['dp_y', 'dp_I', 'dp_U', 'dp_V'] as const) expect(a[k]!.length).toBe(a.dp_x.length);
        a.dp_x.forEach((dx, i) => {
          // the evaluator's mapping: x = dp_x·w/255 + x0, truncated
          const px = Math.floor((dx * bw) / 255 + bx), py = Math.floor((a.dp_y![i]! * bh) / 255 + by);
          expect(dx).toBeGreaterThanOrEqual(0); expect(dx).toBeLessThanOrEqual(255);
          expect(scene.instance[py * W + px]).toBe(id);
          expect(a.dp_I![i]).toBe(scene.partIndex[py * W + px]);
          expect(a.dp_U![i]).toBeCloseTo(scene.u[py * W + px]!, 3);
          expect(a.dp_V![i]).toBeCloseTo(scene.v[py * W + px]!, 3);
        });
        expect(a.dp_masks!.length).toBe(14);
        a.dp_masks!.forEach((m, c) => {
          const want = new Uint8Array(256 * 256);
          for (let j = 0; j < 256; j++) for (let i = 0; i < 256; i++) {
            const px = bx + Math.floor(((i + 0.5) / 256) * bw), py = by + Math.floor(((j + 0.5) / 256) * bh);
            const q = py * W + px;
            want[j * 256 + i] = scene.instance[q] === id && FINE_TO_COARSE[scene.partIndex[q]!] === c + 1 ? 1 : 0;
          }
          if (Array.isArray(m)) expect(want.every((v) => v === 0)).toBe(true);
          else {
            expect(m.size).toEqual([256, 256]);
            expect(Buffer.from(decodeMask(m as Rle)).equals(Buffer.from(want))).toBe(true);
          }
        });
      }
      // dense ground truth PNG: I, U·255, V·255
      const { data, info } = await sharp(join(outA, 'iuv', `00000${index + 1}.png`)).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
      for (let q = 0; q < W * H; q++) {
        expect(data[3 * q]).toBe(scene.partIndex[q]);
        expect(data[3 * q + 1]).toBe(scene.partIndex[q] ? Math.round(scene.u[q]! * 255) : 0);
      }
    }
    expect(withDp).toBeGreaterThan(0);
  });

  it('same seed → byte-identical files; another seed differs', async () => {
    await ready;
    const outB = join(root, 'b'), outC = join(root, 'c');
    await generateDataset({ ...opts, out: outB });
    await generateDataset({ ...opts, out: outC, seed: 22 });
    const files = (d: string) => ['annotations.json', ...readdirSync(join(d, 'images')).map((f) => `images/${f}`), ...readdirSync(join(d, 'iuv')).map((f) => `iuv/${f}`)];
    expect(files(outB)).toEqual(files(outA));
    for (const f of files(outA)) expect(readFileSync(join(outB, f)).equals(readFileSync(join(outA, f))), f).toBe(true);
    expect(readFileSync(join(outC, 'annotations.json')).equals(readFileSync(join(outA, 'annotations.json')))).toBe(false);
  });

  it('worker threads write the same bytes as one thread', async () => {
    const one = join(root, 'w1'), two = join(root, 'w2');
    const o = { ...opts, images: 4, width: 64, height: 48 };
    await generateDataset({ ...o, out: one, workers: 1 });
    await generateDataset({ ...o, out: two, workers: 2 });
    for (const f of ['annotations.json', 'images/000003.png', 'iuv/000002.png']) expect(readFileSync(join(two, f)).equals(readFileSync(join(one, f))), f).toBe(true);
  });

  it('bad options are clear DensePoseErrors; a non-empty directory needs force', async () => {
    const out = join(root, 'bad');
    const bad = [
      [{ images: 0 }, /images must be an integer in 1..1000000, got 0/],
      [{ width: -5 }, /width must be an integer in 16\.\.4096, got -5/],
      [{ poseSet: 'yoga' }, /Unknown pose set "yoga". Expected one of: all, upright, standing/],
      [{ maxPeople: 9 }, /1 ≤ minPeople ≤ maxPeople ≤ 6/],
      [{ backgrounds: ['space'] }, /Unknown background "space"/],
      [{ format: 'gif' }, /Unknown image format "gif"/],
    ] as const;
    for (const [o, msg] of bad) {
      const p = generateDataset({ ...opts, out, ...(o as object) });
      await expect(p).rejects.toBeInstanceOf(DensePoseError);
      await expect(p).rejects.toThrow(msg);
    }
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'keep.txt'), 'x');
    await expect(generateDataset({ ...opts, out, images: 1 })).rejects.toThrow(/not empty.*--force/);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    await generateDataset({ ...opts, out, images: 1, force: true });
    expect(readdirSync(join(out, 'images'))).toEqual(['000001.png']);
    await expect(synthCommand(['--out', out, '--images', '1'])).rejects.toThrow(/--force/);
    await expect(synthCommand(['--out', out, '--images', '1', '--width', '10'])).rejects.toThrow(/width/);
  });
});

describe('body files', () => {
  it('write → read: same arrays through readSynthBodyModel and the evaluator loader; distances symmetric, metric', () => {
    const dir = join(root, 'body');
    const body = writeBodyModel(dir, { rows: 60, spacing: 0.04 });
    const back = readSynthBodyModel(dir);
    const evalBody = loadSmplBodyModel(dir);
    const n = body.vertexPart.length;
    expect(back.vertexPart.length).toBe(n);
    expect(evalBody.numVertices).toBe(n);
    expect(new Set(back.vertexPart)).toEqual(new Set(Array.from({ length: 24 }, (_, i) => i + 1)));
    for (let i = 0; i < n; i += 37) {
      expect(back.vertexPart[i]).toBe(body.vertexPart[i]);
      expect(evalBody.vertexPart[i]).toBe(body.vertexPart[i]);
      expect(evalBody.vertexU[i]).toBeCloseTo(body.vertexU[i]!, 6);
      for (let j = 0; j < n; j += 53) {
        expect(back.distance(i, j)).toBe(back.distance(j, i));
        expect(evalBody.geodesic(i, j)).toBeCloseTo(back.distance(i, j), 6);
        // geodesic ≥ straight line between the entries' rows' points (up to the row spacing)
        const d = Math.hypot(...[0, 1, 2].map((c) => back.positions[3 * i + c]! - back.positions[3 * j + c]!));
        expect(back.distance(i, j)).toBeGreaterThan(d - 0.45);
      }
    }
    // the body is 1.75 m tall: head to foot is about that far
    let head = -1, foot = -1;
    for (let i = 0; i < n; i++) { if (back.vertexPart[i] === 23 && head < 0) head = i; if (back.vertexPart[i] === 5 && foot < 0) foot = i; }
    expect(back.distance(head, foot)).toBeGreaterThan(1.3);
    expect(back.distance(head, foot)).toBeLessThan(2.3);
  });
});
