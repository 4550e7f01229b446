// Kill cases of the hostile-input corpus, as real processes: SIGINT / SIGTERM / SIGKILL during train,
// infer, synth and distill. After each: no partial file under a final name, interrupted work kept
// where promised (train: a checkpoint; infer: results of the images done), and a rerun recovers.
// Also: an error thrown after the wasm backend loaded prints one line, not Emscripten's minified source.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCocoDensePose } from '../../src/data/coco-densepose.ts';
import { readSafetensors } from '../../src/runtime/checkpoint/index.ts';
import { generateDataset } from '../../src/synth/index.ts';
import type { MetricsRow } from '../../src/train/metrics-log.ts';
import { tinyModelFile } from '../infer/helpers.ts';

const BIN = resolve('bin/densepose.js');
const TINY = resolve('configs/test/tiny.json');
const TEMP = /\.tmp-\d+-[0-9a-z]+$/;
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

let dir: string;
let data: string;
let photos: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dp-kill-'));
  data = join(dir, 'synth');
  await generateDataset({ out: data, images: 3, seed: 4, width: 128, height: 96, workers: 0, bodyRows: 4 });
  // 24 small photos for infer/distill, copies of the synthetic images
  photos = join(dir, 'photos');
  mkdirSync(photos);
  const imgs = readdirSync(join(data, 'images'));
  for (let i = 0; i < 24; i++) copyFileSync(join(data, 'images', imgs[i % imgs.length]!), join(photos, `p${String(i).padStart(2, '0')}.png`));
  model = await tinyModelFile();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/**
 * Run `densepose …`; when `when` first returns true (polled every 50 ms, or on stderr output), send
 * `signal`. Resolves when the process has exited.
 */
function densepose(args: string[], kill?: { signal: NodeJS.Signals; when: (stderr: string) => boolean }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DENSEPOSE_PROGRESS: '1', DENSEPOSE_BACKEND: 'cpu' } });
    let out = '';
    let err = '';
    let sent = false;
    const check = () => {
      if (kill && !sent && kill.when(err)) {
        sent = true;
        child.kill(kill.signal);
      }
    };
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      check();
    });
    const timer = setInterval(check, 50);
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (kill && !sent) fail(new Error(`finished before the ${kill.signal} was sent (exit ${code}): ${err}`));
      else done({ code, signal, out, err });
    });
  });
}

/** Every file under `root` (recursive). */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** No temporary file of an atomic write is left, and every file under a final name is complete. */
async function assertNoPartialFiles(root: string): Promise<void> {
  for (const file of filesUnder(root)) {
    if (TEMP.test(file)) continue; // a kill mid-write leaves these; they never carry a final name
    if (file.endsWith('.png')) await sharp(file).raw().toBuffer();
    else if (file.endsWith('.safetensors')) readSafetensors(file);
    else if (file.endsWith('.json')) JSON.parse(readFileSync(file, 'utf8'));
  }
}

function metricsRows(run: string): MetricsRow[] {
  const p = join(run, 'metrics.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as MetricsRow];
    } catch {
      return [];
    }
  });
}

function trainConfig(name: string, checkpointPeriod: number): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({
    model: TINY,
    mode: 'head',
    data: [{ path: data }],
    seed: 2,
    solver: { baseLr: 0.01, maxIter: 500, imsPerBatch: 1, warmupIters: 0, checkpointPeriod, keepCheckpoints: 2 },
    input: { minSizeTrain: [64], maxSizeTrain: 128, flipProbability: 0, colorJitter: 0 },
  }));
  return path;
}

const after = (run: string, rows: number) => () => metricsRows(run).length >= rows;

describe('kill cases', () => {
  it('train: SIGINT saves a checkpoint and exits 130; a rerun with --resume cleans stale temp files and finishes', async () => {
    const run = join(dir, 'train-int');
    const cfg = trainConfig('int.json', 1000);
    const r = await densepose(['train', '--config', cfg, '--out', run], { signal: 'SIGINT', when: after(run, 3) });
    expect(r.code, r.err).toBe(130);
    expect(r.err).toContain('interrupted: saving a checkpoint');
    expect(r.err).not.toMatch(STACK_LINE);
    expect(existsSync(join(run, 'model_final.safetensors'))).toBe(false);
    const last = readFileSync(join(run, 'checkpoints', 'last_checkpoint'), 'utf8').trim();
    const { metadata } = readSafetensors(join(run, 'checkpoints', last));
    const stoppedAt = Number(metadata.iteration);
    expect(stoppedAt).toBeGreaterThanOrEqual(3);
    await assertNoPartialFiles(run);
    // a kill during a checkpoint write leaves such a file; the resumed run removes it
    const stale = join(run, 'checkpoints', 'model_0000042.safetensors.tmp-999-abcd1234');
    writeFileSync(stale, 'half a checkpoint');
    const again = await densepose(['train', '--config', cfg, '--out', run, '--resume', '--max-iter', String(stoppedAt + 2)]);
    expect(again.code, again.err).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(readSafetensors(join(run, 'model_final.safetensors')).tensors.size).toBeGreaterThan(0);
    expect(metricsRows(run).map((row) => row.iteration)).toEqual(Array.from({ length: stoppedAt + 2 }, (_, i) => i));
  }, 240_000);

  it('train: SIGTERM is handled like Ctrl-C (checkpoint, exit 130)', async () => {
    const run = join(dir, 'train-term');
    const r = await densepose(['train', '--config', trainConfig('term.json', 1000), '--out', run], { signal: 'SIGTERM', when: after(run, 1) });
    expect(r.code, r.err).toBe(130);
    expect(r.err).toContain('terminated: saving a checkpoint');
    expect(existsSync(join(run, 'checkpoints', 'last_checkpoint'))).toBe(true);
    expect(existsSync(join(run, 'model_final.safetensors'))).toBe(false);
  }, 240_000);

  it('train: SIGKILL while checkpointing every iteration leaves only complete files; --resume finishes', async () => {
    const run = join(dir, 'train-kill');
    const cfg = trainConfig('kill.json', 1);
    const r = await densepose(['train', '--config', cfg, '--out', run], { signal: 'SIGKILL', when: after(run, 4) });
    expect(r.signal).toBe('SIGKILL');
    await assertNoPartialFiles(run);
    const last = readFileSync(join(run, 'checkpoints', 'last_checkpoint'), 'utf8').trim();
    expect(existsSync(join(run, 'checkpoints', last))).toBe(true);
    const again = await densepose(['train', '--config', cfg, '--out', run, '--resume', '--max-iter', '8']);
    expect(again.code, again.err).toBe(0);
    expect(filesUnder(run).filter((p) => TEMP.test(p))).toEqual([]);
    expect(existsSync(join(run, 'model_final.safetensors'))).toBe(true);
  }, 240_000);

  const iuvCount = (out: string) => (existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('_iuv.png')).length : 0);

  it('infer: Ctrl-C keeps results.json / images.json of the images done (exit 130); a rerun does them all', async () => {
    const out = join(dir, 'infer-int');
    const args = ['infer', photos, '--out', out, '--model', model, '--batch', '1', '--vis', 'none', '--min-size', '64', '--max-size', '128'];
    const r = await densepose(args, { signal: 'SIGINT', when: () => iuvCount(out) >= 2 });
    expect(r.code, r.err).toBe(130);
    expect(r.err).toMatch(/interrupted; \d+ of 24 inputs not run/);
    expect(r.err).not.toMatch(STACK_LINE);
    const { images } = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as { images: { file_name: string; id: number }[] };
    expect(images.length).toBeGreaterThanOrEqual(2);
    expect(images.length).toBeLessThan(24);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { image_id: number }[];
    const ids = new Set(images.map((i) => i.id));
    for (const res of results) expect(ids.has(res.image_id)).toBe(true);
    await assertNoPartialFiles(out);
    const again = await densepose(args);
    expect(again.code, again.err).toBe(0);
    expect((JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as { images: unknown[] }).images).toHaveLength(24);
  }, 240_000);

  it('infer: SIGKILL leaves no partial file under a final name; a rerun recovers', async () => {
    const out = join(dir, 'infer-kill');
    const args = ['infer', photos, '--out', out, '--model', model, '--batch', '1', '--min-size', '64', '--max-size', '128'];
    const r = await densepose(args, { signal: 'SIGKILL', when: () => iuvCount(out) >= 2 });
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    await assertNoPartialFiles(out);
    const again = await densepose(args);
    expect(again.code, again.err).toBe(0);
    expect(iuvCount(out)).toBe(24);
  }, 240_000);

  it('synth: SIGKILL leaves an incomplete set that a plain rerun (no --force) overwrites', async () => {
    const out = join(dir, 'synth-kill');
    const args = ['synth', '--out', out, '--images', '30', '--width', '128', '--height', '96', '--workers', '0', '--no-body', '--seed', '3'];
    const count = () => (existsSync(join(out, 'images')) ? readdirSync(join(out, 'images')).filter((n) => n.endsWith('.png')).length : 0);
    const r = await densepose(args, { signal: 'SIGKILL', when: () => count() >= 3 });
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'annotations.json'))).toBe(false);
    expect(existsSync(join(out, '.synth-incomplete'))).toBe(true);
    await assertNoPartialFiles(out);
    const again = await densepose(args);
    expect(again.code, again.err).toBe(0);
    expect(existsSync(join(out, '.synth-incomplete'))).toBe(false);
    const set = await loadCocoDensePose(join(out, 'annotations.json'), { imageDir: join(out, 'images') });
    expect(set.images).toHaveLength(30);
    expect(set.skipped).toEqual([]);
  }, 240_000);

  const distillArgs = (out: string) => ['distill', '--teacher', model, '--images', photos, '--out', out, '--transforms', 'scales=48', '--max-size', '64', '--score', '0'];
  const labelled = (stderr: string) => /distill 0\/1 .* [1-9]\d*\/24/.test(stderr);

  it('distill: Ctrl-C stops with exit 130 and writes nothing under the output name; a rerun writes the labels', async () => {
    const out = join(dir, 'distill-int', 'pseudo.json');
    const r = await densepose(distillArgs(out), { signal: 'SIGINT', when: labelled });
    expect(r.code, r.err).toBe(130);
    expect(r.err).toMatch(/densepose distill: .*stopped after \d+ of 24 images.*\[ABORTED\]/);
    expect(existsSync(out)).toBe(false);
    const again = await densepose(distillArgs(out));
    expect(again.code, again.err).toBe(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { images: unknown[] }).images.length).toBeGreaterThan(0);
  }, 240_000);

  it('distill: SIGKILL leaves no partial file under the output name; a rerun recovers', async () => {
    const out = join(dir, 'distill-kill', 'pseudo.json');
    const r = await densepose(distillArgs(out), { signal: 'SIGKILL', when: labelled });
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    const again = await densepose(distillArgs(out));
    expect(again.code, again.err).toBe(0);
    await assertNoPartialFiles(join(dir, 'distill-kill'));
  }, 240_000);

  it('an error thrown after the wasm backend loaded prints one line (no minified tfjs source) and exits 70', async () => {
    const script = join(dir, 'crash-after-wasm.mts');
    writeFileSync(script, [
      `import { installProcessHandlers } from ${JSON.stringify(resolve('src/cli/main.ts'))};`,
      `import { initBackend } from ${JSON.stringify(resolve('src/runtime/backend.ts'))};`,
      'installProcessHandlers();',
      "await initBackend({ backend: 'wasm' });",
      "setTimeout(() => { throw new TypeError('boom from a timer'); }, 10);",
      "setTimeout(() => undefined, 5000);",
    ].join('\n'));
    const r = await new Promise<Run>((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('exit', (code, signal) => done({ code, signal, out, err }));
    });
    expect(r.code, r.err.slice(0, 2000)).toBe(70);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^densepose: internal error: TypeError: boom from a timer \[INTERNAL\]/);
    expect(r.err.length).toBeLessThan(400);
    expect(r.err).not.toContain('WasmBackendModule');
  }, 120_000);
});
