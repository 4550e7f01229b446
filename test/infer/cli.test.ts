import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../src/cli/commands/eval.ts';
import { inferCommand } from '../../src/cli/commands/infer.ts';
import type { CocoAnnotation, CocoDataset } from '../../src/data/coco.ts';
import { validateCocoResults } from '../../src/data/coco.ts';
import { decodeDensePoseResults } from '../../src/eval/densepose-results.ts';
import { loadSmplBodyModel } from '../../src/eval/body-model.ts';
import { readImage } from '../../src/infer/image-io.ts';
import type { ImageRecord } from '../../src/infer/run-inputs.ts';
import { createVideoWriter, probeVideo } from '../../src/infer/video-io.ts';
import { syntheticImage, tinyModelFile } from './helpers.ts';

import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../src/runtime/checkpoint/test-fixtures.ts';

const BODY = `${FIXTURES}/densepose_eval`;
let modelPath: string;
beforeAll(async () => {
  modelPath = await tinyModelFile();
}, 60_000);

/** Run a command capturing stdout/stderr lines. */
async function capture(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: await run(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

async function writePng(path: string, seed: number, w = 80, h = 64): Promise<void> {
  const im = syntheticImage(w, h, seed);
  await sharp(im.data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
}

const FAST = ['--min-size', '48', '--max-size', '64', '--quiet'];

describe('densepose infer', () => {
  it.skipIf(SKIP_FIXTURE_TESTS)('an unreadable file among good ones: good ones processed, bad one listed, exit 1; results round-trip through densepose eval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-cli-'));
    mkdirSync(join(dir, 'in'));
    await writePng(join(dir, 'in', '1.png'), 3);
    await writePng(join(dir, 'in', '2.png'), 4);
    writeFileSync(join(dir, 'in', '3.png'), 'this is not a png');
    const out = join(dir, 'out');
    const r = await capture(() => inferCommand([join(dir, 'in'), '--model', modelPath, '--out', out, '--vis', 'parts,uv,boxes', '--score', '0', ...FAST]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/1 input failed/);
    expect(r.err).toContain(join(dir, 'in', '3.png'));
    expect(r.err).not.toContain('1.png');

    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { image_id: number; category_id: number; bbox: number[]; score: number; uv_shape: number[] }[];
    const { images, failed } = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as { images: ImageRecord[]; failed: { file: string }[] };
    expect(failed.map((f) => f.file)).toEqual([join(dir, 'in', '3.png')]);
    expect(images.map((i) => i.id)).toEqual([1, 2]); // numeric file names become image ids
    expect(results.length).toBeGreaterThan(0);
    expect(new Set(results.map((x) => x.image_id))).toEqual(new Set([1, 2]));
    for (const x of results) {
      expect(x.category_id).toBe(1);
      expect(x.uv_shape).toEqual([3, Math.max(Math.trunc(x.bbox[3]!), 1), Math.max(Math.trunc(x.bbox[2]!), 1)]);
    }
    for (const stem of ['1', '2']) {
      const iuv = await readImage(join(out, `${stem}_iuv.png`));
      expect([iuv.width, iuv.height]).toEqual([80, 64]);
      let fg = 0;
      for (let i = 0; i < iuv.data.length; i += 3) if (iuv.data[i]! > 0) fg++;
      expect(fg).toBeGreaterThan(0);
      const overlay = await readImage(join(out, `${stem}_overlay.png`));
      const input = await readImage(join(dir, 'in', `${stem}.png`));
      expect(Buffer.compare(Buffer.from(overlay.data), Buffer.from(input.data))).not.toBe(0);
    }

    // Ground truth made from the predictions themselves: the boxes, and points sampled on predicted
    // foreground with the predicted (I, U, V). Scored by `densepose eval`, bbox AP and GPS AP are 1.
    const body = loadSmplBodyModel(BODY);
    const parts = new Set(Array.from(body.vertexPart));
    const gtImages = images.map((i) => ({ id: i.id, width: i.width, height: i.height, file_name: `${i.id}.png` }));
    const gtDataset: CocoDataset = { images: gtImages, annotations: [], categories: [{ id: 1, name: 'person' }] };
    const dets = await decodeDensePoseResults(validateCocoResults(results, gtDataset, 'results.json'), 'results.json');
    const annotations: CocoAnnotation[] = [];
    dets.forEach((d, k) => {
      const { width: w, height: h, data } = d.iuv;
      const n = w * h;
      const a: CocoAnnotation = { id: k + 1, image_id: d.image_id, category_id: 1, bbox: [...d.bbox] as [number, number, number, number], area: d.bbox[2] * d.bbox[3], iscrowd: 0, dp_x: [], dp_y: [], dp_I: [], dp_U: [], dp_V: [] };
      const fg: number[] = [];
      for (let o = 0; o < n; o++) if (data[o]! > 0 && parts.has(data[o]!)) fg.push(o);
      for (let j = 0; j < Math.min(40, fg.length); j++) {
        const o = fg[Math.floor((j * fg.length) / Math.min(40, fg.length))]!;
        const px = o % w, py = Math.floor(o / w);
        // Point at the pixel centre in the 255-frame the evaluator maps back with x = dp_x·w/255.
        a.dp_x!.push(((px + 0.5) * 255) / d.bbox[2]);
        a.dp_y!.push(((py + 0.5) * 255) / d.bbox[3]);
        a.dp_I!.push(data[o]!);
        a.dp_U!.push(data[n + o]! / 255);
        a.dp_V!.push(data[2 * n + o]! / 255);
      }
      annotations.push(a);
    });
    // A box without foreground (a sliver) has nothing to annotate: leave it out of both files.
    const keep = annotations.map((a) => a.dp_x!.length > 0);
    expect(keep.filter(Boolean).length).toBeGreaterThan(0);
    writeFileSync(join(dir, 'gt.json'), JSON.stringify({ ...gtDataset, annotations: annotations.filter((_, k) => keep[k]) }));
    writeFileSync(join(dir, 'pred.json'), JSON.stringify(results.filter((_, k) => keep[k])));
    const bbox = await capture(() => evalCommand(['--gt', join(dir, 'gt.json'), '--pred', join(dir, 'pred.json'), '--mode', 'bbox', '--json']));
    expect(bbox.code).toBe(0);
    expect((JSON.parse(bbox.out) as { bbox: { AP: number } }).bbox.AP).toBeCloseTo(1, 6);
    const gps = await capture(() => evalCommand(['--gt', join(dir, 'gt.json'), '--pred', join(dir, 'pred.json'), '--mode', 'gps', '--body', BODY, '--json']));
    expect(gps.code).toBe(0);
    expect((JSON.parse(gps.out) as { gps: { AP: number } }).gps.AP).toBeCloseTo(1, 6);
  }, 120_000);

  it('a video of 10 frames gives 10 frame records, per-frame results and an overlay video of 10 frames', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-cli-video-'));
    const video = join(dir, 'clip.mp4');
    const writer = await createVideoWriter(video, { width: 64, height: 48, fps: 10 });
    for (let i = 0; i < 10; i++) await writer.write(syntheticImage(64, 48, i + 1));
    await writer.close();
    const out = join(dir, 'out');
    const r = await capture(() => inferCommand([video, '--model', modelPath, '--out', out, '--score', '0', ...FAST]));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const { images } = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as { images: ImageRecord[] };
    expect(images).toHaveLength(10);
    expect(images.map((i) => i.frame)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(images.map((i) => i.id)).size).toBe(10);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { image_id: number }[];
    expect(new Set(results.map((x) => x.image_id))).toEqual(new Set(images.filter((i) => i.people > 0).map((i) => i.id)));
    expect(results.length).toBe(images.reduce((n, i) => n + i.people, 0));
    const info = await probeVideo(join(out, 'clip_overlay.mp4'));
    expect([info.width, info.height]).toEqual([64, 48]);
    expect(info.frameCount).toBe(10);
    expect(existsSync(join(out, 'clip_iuv', '000009.png'))).toBe(true);
  }, 120_000);

  it('usage errors name the option and the valid values', async () => {
    await expect(inferCommand(['x.png', '--out', '/tmp/x', '--model', modelPath, '--vis', 'parts,skeleton'])).rejects.toThrow(/Unknown overlay \(--vis\) "skeleton". Expected one of: parts, u, v, uv, boxes, legend, dp_segm, .*none\./);
    await expect(inferCommand(['x.png', '--model', modelPath])).rejects.toThrow(/--out/);
    await expect(inferCommand(['x.png', '--out', '/tmp/x', '--model', '/no/model.safetensors'])).rejects.toThrow(/model file not found/);
  });

  it('--gt takes image ids from a COCO file by file name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-cli-gt-'));
    mkdirSync(join(dir, 'in'));
    await writePng(join(dir, 'in', 'a.png'), 5);
    await writePng(join(dir, 'in', '000000.png'), 6);
    const gt = join(dir, 'gt.json');
    writeFileSync(gt, JSON.stringify({ images: [{ id: 7, file_name: 'a.png', width: 80, height: 64 }, { id: 1, file_name: '000000.png', width: 80, height: 64 }], annotations: [], categories: [{ id: 1, name: 'person' }] }));
    const out = join(dir, 'out');
    const r = await capture(() => inferCommand([join(dir, 'in'), '--model', modelPath, '--out', out, '--gt', gt, '--vis', 'none', '--no-iuv', '--score', '0', ...FAST]));
    expect(r.code).toBe(0);
    const { images } = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as { images: ImageRecord[] };
    expect(Object.fromEntries(images.map((im) => [im.file_name.split('/').pop(), im.id]))).toEqual({ 'a.png': 7, '000000.png': 1 });
  });
});
