// The zoo cache end to end against a local HTTP server serving the tiny detectron2 fixture checkpoint
// under an index entry: progress, resume, checksum, offline, concurrent pulls, inference from the cache.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
});
