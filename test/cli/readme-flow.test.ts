// The README's command-line path, as a new user walks it, on tiny inputs: synth → infer → eval
// (no --gt: synth's file names are its image ids), train on the ready-made quick config with
// --data/--val, distill → train from another folder, texture, demo.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoCommand } from '../../src/cli/commands/demo.ts';
import { distillCommand } from '../../src/cli/commands/distill.ts';
import { evalCommand } from '../../src/cli/commands/eval.ts';
import { inferCommand } from '../../src/cli/commands/infer.ts';
import { synthCommand } from '../../src/cli/commands/synth.ts';
import { textureCommand } from '../../src/cli/commands/texture.ts';
import { trainCommand } from '../../src/cli/commands/train.ts';
import { CONTACT_SHEET_TITLE_HEIGHT } from '../../src/synth/preview.ts';
import { tinyModelFile } from '../infer/helpers.ts';

async function capture(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const warn = vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: await run(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    warn.mockRestore();
  }
}

const root = mkdtempSync(join(tmpdir(), 'dp-readme-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'data', 'synth');
const out = join(root, 'out');
let model: string;

beforeAll(async () => {
  model = await tinyModelFile();
  const r = await capture(() => synthCommand(['--out', data, '--images', '3', '--seed', '5', '--width', '96', '--height', '72', '--preview', '--workers', '1', '--body-rows', '200']));
  expect(r.code, r.err).toBe(0);
}, 180_000);

describe('the README path on tiny inputs', () => {
  it('synth: images named by id, a titled preview', async () => {
    const ann = JSON.parse(readFileSync(join(data, 'annotations.json'), 'utf8')) as { images: { id: number; file_name: string }[] };
    expect(ann.images.map((i) => [i.id, i.file_name])).toEqual([[1, '000001.png'], [2, '000002.png'], [3, '000003.png']]);
    const { data: px, info } = await sharp(join(data, 'preview.png')).raw().toBuffer({ resolveWithObject: true });
    expect(info.height).toBe(CONTACT_SHEET_TITLE_HEIGHT + 3 * 72);
    // Each of the 4 column titles has dark text pixels in the strip.
    for (let col = 0; col < 4; col++) {
      let dark = 0;
      for (let y = 0; y < CONTACT_SHEET_TITLE_HEIGHT; y++) for (let x = col * 96; x < (col + 1) * 96; x++) if (px[(y * info.width + x) * info.channels]! < 160) dark++;
      expect(dark, `title of column ${col}`).toBeGreaterThan(5);
    }
  });

  it('infer → eval without --gt: ids agree, --mode all scores bbox, segm and the DensePose modes; text and --json keys agree', async () => {
    const r = await capture(() => inferCommand([join(data, 'images'), '--model', model, '--out', out, '--score', '0', '--vis', 'dp_segm,u,v,uv,bbox,legend', '--min-size', '48', '--max-size', '96', '--quiet']));
    expect(r.code, r.err).toBe(0);
    const images = (JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as { images: { id: number }[] }).images;
    expect(images.map((i) => i.id)).toEqual([1, 2, 3]);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, unknown>[];
    expect(results.length).toBeGreaterThan(0);
    for (const x of results) expect(Object.keys(x)).toEqual(expect.arrayContaining(['image_id', 'bbox', 'score', 'uv_shape', 'uv_data', 'segmentation']));
    const overlay = await sharp(join(out, '000001_overlay.png')).metadata();
    expect(overlay.width).toBeGreaterThan(96); // the legend sits to the right

    const json = await capture(() => evalCommand(['--gt', join(data, 'annotations.json'), '--pred', join(out, 'results.json'), '--json']));
    expect(json.code, json.err).toBe(0);
    const summary = JSON.parse(json.out) as Record<string, Record<string, number>>;
    expect(Object.keys(summary).sort()).toEqual(['bbox', 'gps', 'gpsm', 'iou', 'segm']);
    const text = await capture(() => evalCommand(['--gt', join(data, 'annotations.json'), '--pred', join(out, 'results.json')]));
    expect(text.code).toBe(0);
    let mode = '';
    const fromText: Record<string, Record<string, number>> = {};
    for (const line of text.out.split('\n')) {
      const head = /^(\w+):$/.exec(line);
      if (head) fromText[(mode = head[1]!)] = {};
      const row = /^ {2}(\w+)\s+= (-?\d+\.\d+)/.exec(line);
      if (row) fromText[mode]![row[1]!] = Number(row[2]);
    }
    expect(Object.keys(fromText).sort()).toEqual(Object.keys(summary).sort());
    for (const m of Object.keys(summary)) {
      expect(Object.keys(fromText[m]!)).toEqual(Object.keys(summary[m]!));
      for (const [k, v] of Object.entries(summary[m]!)) expect(fromText[m]![k]).toBeCloseTo(v, 3);
    }

    // Results without segmentation (another tool's): --mode segm says why instead of printing zeros.
    const bare = join(root, 'bare.json');
    writeFileSync(bare, JSON.stringify(results.map(({ segmentation: _s, ...rest }) => rest)));
    await expect(evalCommand(['--gt', join(data, 'annotations.json'), '--pred', bare, '--mode', 'segm'])).rejects.toThrow(/--mode segm needs a "segmentation".*\d+ of \d+ have none/);
  }, 240_000);

  it('texture --extract on infer output, demo with results in challenge format', async () => {
    const atlas = join(root, 'atlas.png');
    const t = await capture(() => textureCommand([join(data, 'images', '000001.png'), '--results', join(out, 'results.json'), '--image-id', '1', '--min-score', '0', '--extract', '--tile-size', '16', '--out', atlas]));
    expect(t.code, t.err).toBe(0);
    const d = await capture(() => demoCommand(['--model', model, '--out', join(root, 'demo'), '--width', '128', '--height', '96', '--people', '2', '--score', '0']));
    expect(d.code, d.err).toBe(0);
    expect(d.out).toMatch(/^found \d+ (people|person) \(ground truth: 2\)/);
    for (const x of JSON.parse(readFileSync(join(root, 'demo', 'results.json'), 'utf8')) as { uv_shape: number[]; uv_data: string }[]) {
      expect(x.uv_shape).toHaveLength(3);
      expect(typeof x.uv_data).toBe('string');
    }
  }, 120_000);

  it('train: the ready-made quick config runs with --data and --val overrides', async () => {
    const run = join(root, 'runs', 'quick');
    const r = await capture(() => trainCommand(['--config', 'configs/train/quick-synth.json', '--data', data, '--val', 'none', '--out', run, '--max-iter', '2']));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(join(run, 'model_final.safetensors'));
    // Not a terminal here: progress comes as plain lines.
    expect(r.err).not.toMatch(/[█░]/);
  }, 240_000);

  it('train: progress counts iterations, not log rows, when logPeriod > 1', async () => {
    const cfg = join(root, 'log-period.json');
    writeFileSync(cfg, JSON.stringify({ model: resolve('configs/test/tiny.json'), data: [data], logPeriod: 2, solver: { maxIter: 4, imsPerBatch: 1, warmupIters: 1, checkpointPeriod: 10 }, input: { minSizeTrain: [72], maxSizeTrain: 96 } }));
    const lines: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    const r = await capture(() => trainCommand(['--config', cfg, '--out', join(root, 'runs', 'log-period'), '--log-every', '2'])).finally(() => write.mockRestore());
    expect(r.code, r.err).toBe(0);
    const progress = lines.filter((l) => l.startsWith('train')).join('');
    expect(progress).toMatch(/ 2\/4 /);
    expect(progress).toMatch(/ 4\/4 /);
    expect(progress).not.toMatch(/ 3\/4 /);
  }, 240_000);

  it('distill → train: the pseudo-label file, in another folder, leads training to its images', async () => {
    const pseudoDir = join(root, 'elsewhere');
    mkdirSync(pseudoDir);
    const pseudo = join(pseudoDir, 'pseudo.json');
    const dl = await capture(() => distillCommand(['--teacher', model, '--images', join(data, 'images'), '--out', pseudo, '--score', '0', '--transforms', 'scales=72', '--max-size', '96']));
    expect(dl.code, dl.err).toBe(0);
    expect(dl.out).toMatch(/\d+ people became labels .* \d+ labelled pixels/);
    const labels = JSON.parse(readFileSync(pseudo, 'utf8')) as { distill: { imageDir: string }; images: unknown[] };
    expect(labels.distill.imageDir).toBe(resolve(data, 'images'));
    expect(labels.images.length).toBeGreaterThan(0);
    const cfg = join(root, 'pseudo-train.json');
    writeFileSync(cfg, JSON.stringify({ model: resolve('configs/test/tiny.json'), data: [], solver: { maxIter: 1, imsPerBatch: 1, warmupIters: 1, checkpointPeriod: 10 }, input: { minSizeTrain: [72], maxSizeTrain: 96 } }));
    const r = await capture(() => trainCommand(['--config', cfg, '--data', pseudo, '--out', join(root, 'runs', 'student')]));
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/skipped/);
  }, 240_000);
});
