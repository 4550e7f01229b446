// The zoo cache end to end against a local HTTP server serving the tiny detectron2 fixture checkpoint
// under an index entry: progress, resume (in one pull and across pulls), checksum, offline, concurrent
// pulls (promises and processes), a lock held or left by another process, inference from the cache.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDensePose } from '../../src/infer/densepose.ts';
import { readModelConfig } from '../../src/infer/model-file.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { readNpy } from '../../src/runtime/checkpoint/npy.ts';
import { FIXTURES, HAVE_FIXTURES } from '../../src/runtime/checkpoint/test-fixtures.ts';
import { cachedModel, listModels, pullModel, removeModel, type PullProgress } from '../../src/zoo/cache.ts';
import type { ZooIndex } from '../../src/zoo/index.ts';
import { serveFile, type TestServer } from './helpers.ts';

const PKL = `${FIXTURES}/detectron2/densepose_rcnn_R_18_tiny_random.pkl`;
const CONFIG = resolve('configs/densepose_rcnn_R_18_tiny_fixture.json');
const URL_PATH = '/densepose/densepose_rcnn_R_18_tiny/1/model_final_tiny.pkl';
const run = HAVE_FIXTURES || process.env['CI'] ? describe : describe.skip;

run('zoo cache against a local server', () => {
  let server: TestServer;
  let tmp: string;
  let md5 = '';
  let sha256 = '';
  let size = 0;

  const indexFile = (md5Prefix: string): string => {
    const index: ZooIndex = {
      version: 1,
      source: 'test',
      licence: 'test licence',
      models: [{ name: 'R_18_tiny', detectron2Config: 'densepose_rcnn_R_18_tiny', config: CONFIG, modelId: 1, md5Prefix, url: server.url(URL_PATH) }],
    };
    const path = join(tmp, `index-${md5Prefix}.json`);
    writeFileSync(path, JSON.stringify(index));
    return path;
  };
  const fresh = (name: string) => join(tmp, name);

  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    const bytes = readFileSync(PKL);
    md5 = createHash('md5').update(bytes).digest('hex');
    sha256 = createHash('sha256').update(bytes).digest('hex');
    size = bytes.length;
    server = await serveFile(PKL, URL_PATH);
    tmp = mkdtempSync(join(tmpdir(), 'dp-zoo-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('downloads with progress, resumes after the server cuts the connection, verifies, converts, records the sha256', async () => {
    const cache = fresh('c1');
    const events: PullProgress[] = [];
    server.requests.length = 0;
    server.cutNextAfter(Math.floor(size * 0.4));
    const got = await pullModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache, onProgress: (e) => events.push(e) });
    // the cut response, then one resumed with a Range request from where it stopped
    expect(server.requests.map((r) => r.range)).toEqual([undefined, `bytes=${Math.floor(size * 0.4)}-`]);
    const downloads = events.filter((e) => e.phase === 'download');
    expect(downloads.length).toBeGreaterThan(2);
    for (let i = 1; i < downloads.length; i++) expect(downloads[i]!.received).toBeGreaterThanOrEqual(downloads[i - 1]!.received);
    expect(downloads.at(-1)).toMatchObject({ received: size, total: size, resumedFrom: Math.floor(size * 0.4) });
    expect(events.map((e) => e.phase).filter((p, i, a) => a.indexOf(p) === i)).toEqual(['download', 'verify', 'convert', 'done']);
    expect(got.manifest).toMatchObject({ name: 'R_18_tiny', md5, sha256, bytes: size, modelFile: 'model.safetensors', licence: 'test licence' });
    expect(readModelConfig(got.modelFile).name).toBe('densepose_rcnn_R_18_tiny_fixture');
    // the checkpoint is not kept; nothing partial is left
    expect(readdirSync(got.dir).sort()).toEqual(['manifest.json', 'model.safetensors']);
    // a second pull is served from the cache: no request
    server.requests.length = 0;
    expect((await pullModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache })).modelFile).toBe(got.modelFile);
    expect(server.requests).toEqual([]);
    expect(listModels({ index: indexFile(md5.slice(0, 6)), cacheDir: cache })[0]!.cached?.modelFile).toBe(got.modelFile);
    expect(removeModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache })).toBe(true);
    expect(cachedModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache })).toBeUndefined();
  });

  it('a checksum mismatch is an error and nothing is cached', async () => {
    const cache = fresh('c2');
    const wrong = md5.startsWith('000000') ? '111111' : '000000';
    await expect(pullModel('R_18_tiny', { index: indexFile(wrong), cacheDir: cache })).rejects.toThrow(/checksum mismatch for model "R_18_tiny".*nothing was cached/);
    expect(readdirSync(join(cache, 'zoo', 'R_18_tiny'))).toEqual([]);
    expect(existsSync(join(cache, 'zoo', 'R_18_tiny.lock'))).toBe(false);
  });

  const partOf = (cache: string) => join(cache, 'zoo', 'R_18_tiny', 'model_final_tiny.pkl.part');
  const lockOf = (cache: string) => join(cache, 'zoo', 'R_18_tiny.lock');

  it('a pull whose every attempt is cut fails naming the kept partial file; the next pull resumes from it', async () => {
    const cache = fresh('c5');
    const index = indexFile(md5.slice(0, 6));
    const step = Math.floor(size / 10);
    server.requests.length = 0;
    server.cutNextAfter(step, 4); // the first pull's 4 attempts (3 retries) each get `step` more bytes
    await expect(pullModel('R_18_tiny', { index, cacheDir: cache })).rejects.toThrow(/download failed after 4 attempts.*kept in .*model_final_tiny\.pkl\.part and a later pull resumes/);
    expect(server.requests.map((r) => r.range)).toEqual([undefined, `bytes=${step}-`, `bytes=${2 * step}-`, `bytes=${3 * step}-`]);
    expect(statSync(partOf(cache)).size).toBe(4 * step);
    expect(existsSync(lockOf(cache))).toBe(false);
    expect(cachedModel('R_18_tiny', { index, cacheDir: cache })).toBeUndefined();

    server.requests.length = 0;
    const events: PullProgress[] = [];
    const got = await pullModel('R_18_tiny', { index, cacheDir: cache, onProgress: (e) => events.push(e) });
    expect(server.requests.map((r) => r.range)).toEqual([`bytes=${4 * step}-`]);
    expect(events.find((e) => e.phase === 'download')).toMatchObject({ resumedFrom: 4 * step, total: size });
    expect(got.manifest).toMatchObject({ md5, sha256, bytes: size });
    expect(readdirSync(got.dir).sort()).toEqual(['manifest.json', 'model.safetensors']);
  });

  it('a kept partial file and a server that ignores Range: the download starts over and the file is whole', async () => {
    const cache = fresh('c6');
    mkdirSync(join(cache, 'zoo', 'R_18_tiny'), { recursive: true });
    writeFileSync(partOf(cache), readFileSync(PKL).subarray(0, Math.floor(size / 3)));
    server.requests.length = 0;
    server.ignoreRange(true);
    try {
      const got = await pullModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache });
      expect(server.requests.map((r) => r.range)).toEqual([`bytes=${Math.floor(size / 3)}-`]); // asked, got HTTP 200
      expect(got.manifest).toMatchObject({ md5, sha256, bytes: size });
    } finally {
      server.ignoreRange(false);
    }
  });

  it('a kept partial file that is not a prefix of the checkpoint: resumed, then a checksum mismatch deletes it and caches nothing', async () => {
    const cache = fresh('c7');
    mkdirSync(join(cache, 'zoo', 'R_18_tiny'), { recursive: true });
    const have = Math.floor(size / 4);
    writeFileSync(partOf(cache), randomBytes(have));
    server.requests.length = 0;
    await expect(pullModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache })).rejects.toThrow(/checksum mismatch for model "R_18_tiny".*the download was deleted and nothing was cached/);
    expect(server.requests.map((r) => r.range)).toEqual([`bytes=${have}-`]);
    expect(readdirSync(join(cache, 'zoo', 'R_18_tiny'))).toEqual([]);
    expect(existsSync(lockOf(cache))).toBe(false);
  });

  it('offline: a missing model is a clear error naming it and the cache, and no request is made', async () => {
    const cache = fresh('c3');
    server.requests.length = 0;
    await expect(pullModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache, env: { DENSEPOSE_OFFLINE: '1' } })).rejects.toThrow(
      /model "R_18_tiny" is not in the cache \(.*c3\/zoo\/R_18_tiny\) and DENSEPOSE_OFFLINE=1 forbids downloading it from http:\/\/127\.0\.0\.1/,
    );
    expect(server.requests).toEqual([]);
  });

  it('two concurrent pulls download once and both get the same valid model; inference then runs from the cache offline', async () => {
    const cache = fresh('c4');
    const index = indexFile(md5.slice(0, 6));
    server.requests.length = 0;
    const [a, b] = await Promise.all([pullModel('R_18_tiny', { index, cacheDir: cache }), pullModel('R_18_tiny', { index, cacheDir: cache })]);
    expect(server.requests).toHaveLength(1);
    expect(a.modelFile).toBe(b.modelFile);
    expect(b.manifest.sha256).toBe(sha256);

    const saved = { ...process.env };
    Object.assign(process.env, { DENSEPOSE_ZOO_INDEX: index, DENSEPOSE_CACHE: cache, DENSEPOSE_OFFLINE: '1' });
    try {
      // the fixture image at its own size (no resize), as detectron2 ran it; the score threshold is the config's 0.05
      const dp = await createDensePose({ model: 'R_18_tiny', minSize: 480, maxSize: 640, tfjsBackend: 'cpu' });
      const people = await dp.estimate(`${FIXTURES}/detectron2/image_480x640.png`, { maxPeople: 3 });
      expect(dp.spec.name).toBe('densepose_rcnn_R_18_tiny_fixture');
      await dp.dispose();
      const ref = readNpy(`${FIXTURES}/detectron2/det_boxes_xyxy.npy`).data as Float32Array;
      const refScores = readNpy(`${FIXTURES}/detectron2/det_scores.npy`).data as Float32Array;
      expect(people).toHaveLength(3);
      const [x, y, w, h] = people[0]!.box;
      expect(Math.max(Math.abs(x - ref[0]!), Math.abs(y - ref[1]!), Math.abs(x + w - ref[2]!), Math.abs(y + h - ref[3]!))).toBeLessThan(0.01);
      expect(Math.abs(people[0]!.score - refScores[0]!)).toBeLessThan(1e-4);
      expect(people[0]!.densepose.labels.some((l) => l > 0)).toBe(true);
    } finally {
      for (const k of ['DENSEPOSE_ZOO_INDEX', 'DENSEPOSE_CACHE', 'DENSEPOSE_OFFLINE']) delete process.env[k];
      Object.assign(process.env, saved);
    }
    expect(server.requests).toHaveLength(1);
  });

  /** Run `code` (an ES module, `argv` after it) in another Node process with tsx; resolves at its exit. */
  const child = (file: string, code: string, argv: string[]) => {
    const script = join(tmp, file);
    writeFileSync(script, code);
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((done) => proc.on('exit', (code, signal) => done({ code, signal, out, err })));
    return { proc, exit, out: () => out };
  };
  const until = async (ok: () => boolean, what: string, ms = 60_000) => {
    for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
  };
  const LOCK_TS = JSON.stringify(resolve('src/zoo/lock.ts'));
  const CACHE_TS = JSON.stringify(resolve('src/zoo/cache.ts'));
  // holds the lock until killed; says so on stdout
  const HOLD = `import { acquireLock } from ${LOCK_TS};\nawait acquireLock(process.argv[2]);\nprocess.stdout.write('held\\n');\nsetInterval(() => undefined, 1000);\n`;

  it('a lock held by another live process: the pull waits (a "wait" event, no request) until aborted', async () => {
    const cache = fresh('c8');
    mkdirSync(join(cache, 'zoo'), { recursive: true });
    const holder = child('hold-live.mts', HOLD, [lockOf(cache)]);
    try {
      await until(() => holder.out().includes('held'), 'the other process to take the lock');
      server.requests.length = 0;
      const events: PullProgress[] = [];
      const abort = new AbortController();
      const pull = pullModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache, signal: abort.signal, onProgress: (e) => events.push(e) });
      await until(() => events.length > 0, 'the wait event', 10_000);
      await new Promise((r) => setTimeout(r, 400));
      abort.abort();
      await expect(pull).rejects.toThrow(/aborted while waiting for the lock/);
      expect(events.map((e) => e.phase)).toEqual(['wait']);
      expect(server.requests).toEqual([]);
      expect(existsSync(lockOf(cache))).toBe(true); // still the other process's
    } finally {
      holder.proc.kill('SIGKILL');
      await holder.exit;
    }
  });

  it('a lock left by a killed process is taken over at once', async () => {
    const cache = fresh('c9');
    mkdirSync(join(cache, 'zoo'), { recursive: true });
    const holder = child('hold-killed.mts', HOLD, [lockOf(cache)]);
    await until(() => holder.out().includes('held'), 'the other process to take the lock');
    holder.proc.kill('SIGKILL');
    expect((await holder.exit).signal).toBe('SIGKILL');
    expect(existsSync(lockOf(cache))).toBe(true);
    server.requests.length = 0;
    const events: PullProgress[] = [];
    const got = await pullModel('R_18_tiny', { index: indexFile(md5.slice(0, 6)), cacheDir: cache, onProgress: (e) => events.push(e) });
    expect(events.some((e) => e.phase === 'wait')).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(got.manifest.sha256).toBe(sha256);
    expect(existsSync(lockOf(cache))).toBe(false);
  });

  it('a pull in another process: this one waits for its lock and then uses its model, with no request of its own', async () => {
    const cache = fresh('c10');
    const index = indexFile(md5.slice(0, 6));
    server.requests.length = 0;
    const other = child('pull.mts', `import { pullModel } from ${CACHE_TS};\nconst got = await pullModel('R_18_tiny', { index: process.argv[2], cacheDir: process.argv[3] });\nprocess.stdout.write(JSON.stringify(got.manifest));\n`, [index, cache]);
    const started = await Promise.race([until(() => existsSync(lockOf(cache)), 'the other pull to take the lock').then(() => true), other.exit.then(() => false)]);
    expect(started, 'the other pull ended before it was seen holding the lock').toBe(true);
    const events: PullProgress[] = [];
    const mine = await pullModel('R_18_tiny', { index, cacheDir: cache, onProgress: (e) => events.push(e) });
    const r = await other.exit;
    expect(r.code, r.err.slice(0, 2000)).toBe(0);
    expect(events.map((e) => e.phase)).toEqual(['wait']);
    expect(server.requests).toHaveLength(1);
    expect(mine.manifest).toEqual(JSON.parse(r.out));
    expect(existsSync(lockOf(cache))).toBe(false);
  });
});
