// Model directories and the export cache: `exportModel` writes spec + stages + metadata; a directory
// opens with ONNX Runtime alone (no tfjs module loaded, checked in a fresh process) and gives the
// same people as the in-memory export; a model file is exported once and found again by fingerprint.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, copyFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { cachedModelDir, createDensePose, cacheDir, exportModel, MODEL_DIR_FILES, modelFingerprint, openModelDir, readModelConfig } from '../../src/index.ts';
import { exportCommand } from '../../src/cli/commands/export.ts';
import { syntheticImage, tinyModelFile } from './helpers.ts';

const execFileAsync = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

let modelPath: string;
let work: string;
beforeAll(async () => {
  modelPath = await tinyModelFile();
  work = mkdtempSync(join(tmpdir(), 'dp-model-dir-'));
}, 60_000);

describe('model directory', () => {
  it('exportModel writes spec, metadata and the three stages; the directory gives the same people as the in-memory export', async () => {
    const dir = join(work, 'tiny-model');
    await exportModel(modelPath, dir);
    expect(readdirSync(dir).sort()).toEqual(Object.values(MODEL_DIR_FILES).sort());
    const { spec, metadata } = openModelDir(dir);
    expect(metadata.config).toEqual(readModelConfig(modelPath));
    expect(metadata.source?.fingerprint).toBe(modelFingerprint(resolve(modelPath)));
    expect(spec.name).toBe('tiny-test');
    await expect(exportModel(modelPath, dir)).rejects.toThrow(/already exists/);

    const image = syntheticImage(64, 64, 5);
    const fromDir = await createDensePose({ model: dir, minSize: 48, maxSize: 64, threads: 1 });
    const inMemory = await createDensePose({ model: modelPath, cache: false, minSize: 48, maxSize: 64, threads: 1 });
    const a = await fromDir.estimate(image);
    const b = await inMemory.estimate(image);
    expect(a.length).toBeGreaterThan(0);
    expect(a.map((p) => [p.box, p.score])).toEqual(b.map((p) => [p.box, p.score]));
    expect(a.map((p) => Array.from(p.densepose.labels))).toEqual(b.map((p) => Array.from(p.densepose.labels)));
    await fromDir.dispose();
    await inMemory.dispose();
  }, 120_000);

  it('a model file is exported to the cache once; a changed file is exported again', async () => {
    const cache = join(work, 'cache');
    const file = join(work, 'copy.safetensors');
    copyFileSync(modelPath, file);
    const first = await cachedModelDir(file, { cacheDir: cache });
    expect(first.exported).toBe(true);
    expect(first.dir.startsWith(join(cache, 'exports'))).toBe(true);
    const written = statSync(join(first.dir, MODEL_DIR_FILES.body)).mtimeMs;
    const again = await cachedModelDir(file, { cacheDir: cache });
    expect(again).toEqual({ dir: first.dir, exported: false });
    expect(statSync(join(again.dir, MODEL_DIR_FILES.body)).mtimeMs).toBe(written);
    // createDensePose goes through the same cache
    const dp = await createDensePose({ model: file, cache, minSize: 48, maxSize: 64, threads: 1 });
    await dp.dispose();
    expect(readdirSync(join(cache, 'exports'))).toHaveLength(1);
    // rewriting the file (new mtime) is a new model
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const changed = await cachedModelDir(file, { cacheDir: cache });
    expect(changed.exported).toBe(true);
    expect(changed.dir).not.toBe(first.dir);
  }, 120_000);

  it('opening a model directory loads no tfjs module (fresh process)', async () => {
    const dir = join(work, 'for-child');
    await exportModel(modelPath, dir);
    const script = join(work, 'child.mts'); // .mts: ESM (top-level await) outside any package.json
    writeFileSync(
      script,
      `import { createDensePose } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
const dp = await createDensePose({ model: ${JSON.stringify(dir)}, minSize: 48, maxSize: 64, threads: 1 });
const people = await dp.estimate({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(128) });
await dp.dispose();
console.log(JSON.stringify({ tfjs: '_tfengine' in globalThis, people: people.length, backend: dp.backend }));
`,
    );
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8' });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { tfjs: boolean; backend: string };
    expect(out).toMatchObject({ tfjs: false, backend: 'onnx' });
  }, 120_000);

  it('densepose export writes a model directory; --out is required; --force replaces', async () => {
    const dir = join(work, 'cli-export');
    expect(await exportCommand([modelPath, '--out', dir])).toBe(0);
    expect(openModelDir(dir).spec.name).toBe('tiny-test');
    await expect(exportCommand([modelPath])).rejects.toThrow(/--out DIR is required/);
    await expect(exportCommand([modelPath, '--out', dir])).rejects.toThrow(/--force/);
    expect(await exportCommand([modelPath, '--out', dir, '--force'])).toBe(0);
  }, 120_000);

  it('bad model paths and options say what is wrong', { timeout: 120_000 }, async () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    await expect(createDensePose({ model: empty })).rejects.toThrow(/is a folder but not a model directory/);
    const dir = join(work, 'bad-paths-model');
    await exportModel(modelPath, dir);
    await expect(createDensePose({ model: dir, backend: 'tfjs' })).rejects.toThrow(/needs the model file/);
    writeFileSync(join(work, 'bad.safetensors'), 'not a model');
    await expect(createDensePose({ model: join(work, 'bad.safetensors') })).rejects.toThrow(/safetensors/);
    const spec = JSON.parse(readFileSync(join(dir, MODEL_DIR_FILES.spec), 'utf8')) as { version: number };
    writeFileSync(join(dir, MODEL_DIR_FILES.spec), JSON.stringify({ ...spec, version: 99 }));
    await expect(createDensePose({ model: dir })).rejects.toThrow(/spec version 99/);
  });
});

describe('cacheDir', () => {
  it('$DENSEPOSE_CACHE, else $XDG_CACHE_HOME/densepose-ts, else ~/.cache/densepose-ts', () => {
    expect(cacheDir({ DENSEPOSE_CACHE: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'densepose-ts'));
    expect(cacheDir({})).toBe(join(homedir(), '.cache', 'densepose-ts'));
    expect(cacheDir({ DENSEPOSE_CACHE: '' })).toBe(join(homedir(), '.cache', 'densepose-ts'));
  });
});
