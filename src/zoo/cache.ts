// The on-disk model cache: a named model is downloaded once (resumable), verified (md5 prefix, and the
// index's sha256 when it has one; the sha256 is recorded), converted once into a model file, and kept
// under `<cacheDir()>/zoo/<name>/`:
//   model.safetensors   the converted model (weights + config), what createDensePose loads
//   manifest.json       written last: the entry is complete when it exists (name, url, md5, sha256, bytes, …)
//   <file>.part         a download in progress (resumed by the next pull)
// `<name>.lock` next to the folder serialises pulls of one model across processes and promises.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DensePoseError } from '../errors.ts';
import { cacheDir } from '../infer/cache-dir.ts';
import { downloadFile, hashFile, type PullProgress } from './download.ts';
import { getZooEntry, shippedZooIndex, validateZooIndex, type ZooEntry, type ZooIndex } from './index.ts';
import { acquireLock } from './lock.ts';

export type { PullProgress } from './download.ts';

/** Package root (configs/ of the shipped index are relative to it). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ZooOptions {
  /** A parsed index or an index file. @default $DENSEPOSE_ZOO_INDEX, else the shipped models/zoo.json */
  index?: ZooIndex | string;
  /** Cache root. @default cacheDir() ($DENSEPOSE_CACHE, $XDG_CACHE_HOME/densepose-ts, ~/.cache/densepose-ts) */
  cacheDir?: string;
  /** Never download; a model not in the cache is an error. @default $DENSEPOSE_OFFLINE === '1' */
  offline?: boolean;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /** For tests and custom agents. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Keep the downloaded checkpoint next to the model file (it is deleted after conversion otherwise). @default false */
  keepCheckpoint?: boolean;
  /** Environment read for the defaults. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** What manifest.json records. */
export interface ZooManifest {
  version: 1;
  name: string;
  url: string;
  md5: string;
  sha256: string;
  /** Size of the downloaded checkpoint. */
  bytes: number;
  /** Config the model was converted with (as the index names it). */
  config: string;
  /** The converted model file, relative to the entry's folder. */
  modelFile: string;
  /** The checkpoint, when kept. */
  checkpoint?: string;
  licence: string;
  pulledAt: string;
}

export interface CachedModel {
  name: string;
  dir: string;
  /** Absolute path of the converted model file. */
  modelFile: string;
  manifest: ZooManifest;
}

const MODEL_FILE = 'model.safetensors';
const MANIFEST = 'manifest.json';

/** The index in effect and the folder its relative config paths start from. */
export function loadZooIndex(options: Pick<ZooOptions, 'index' | 'env'> = {}): { index: ZooIndex; configBase: string } {
  const source = options.index ?? (options.env ?? process.env)['DENSEPOSE_ZOO_INDEX'];
  if (source === undefined || source === '') return { index: shippedZooIndex(), configBase: PACKAGE_ROOT };
  if (typeof source !== 'string') return { index: source, configBase: process.cwd() };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(source, 'utf8'));
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `cannot read the model index: ${(e as Error).message}`, { where: source, cause: e });
  }
  return { index: validateZooIndex(json, source), configBase: dirname(resolve(source)) };
}

/** `<cache root>/zoo`. */
export function zooCacheDir(options: Pick<ZooOptions, 'cacheDir' | 'env'> = {}): string {
  return join(options.cacheDir ?? cacheDir(options.env ?? process.env), 'zoo');
}

function readManifest(dir: string): ZooManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as ZooManifest;
    return m.version === 1 && typeof m.modelFile === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The cached model of `entry`, if complete (manifest there, model file there, same checkpoint as the index says). */
function cachedEntry(entry: ZooEntry, root: string): CachedModel | undefined {
  const dir = join(root, entry.name);
  const manifest = readManifest(dir);
  if (!manifest || manifest.url !== entry.url || !manifest.md5.startsWith(entry.md5Prefix)) return undefined;
  const modelFile = join(dir, manifest.modelFile);
  return existsSync(modelFile) ? { name: entry.name, dir, modelFile, manifest } : undefined;
}

/** The cached copy of a named model, or undefined. Unknown names throw `NOT_FOUND` listing the valid ones. */
export function cachedModel(name: string, options: ZooOptions = {}): CachedModel | undefined {
  return cachedEntry(getZooEntry(loadZooIndex(options).index, name), zooCacheDir(options));
}

/** Every model of the index, with its cached copy where there is one. */
export function listModels(options: ZooOptions = {}): { entry: ZooEntry; cached: CachedModel | undefined }[] {
  const root = zooCacheDir(options);
  return loadZooIndex(options).index.models.map((entry) => ({ entry, cached: cachedEntry(entry, root) }));
}

/** Delete a model's cache entry (model file, manifest, partial downloads). Returns whether anything was there. */
export function removeModel(name: string, options: ZooOptions = {}): boolean {
  const entry = getZooEntry(loadZooIndex(options).index, name);
  const dir = join(zooCacheDir(options), entry.name);
  const existed = existsSync(dir);
  rmSync(dir, { recursive: true, force: true });
  return existed;
}

/** Checkpoint file name of an entry (the URL's last segment). */
function checkpointName(entry: ZooEntry): string {
  return basename(new URL(entry.url).pathname);
}

/**
 * The model file of a named model, pulling it first when it is not cached: download (resumable, with
 * progress), verify, convert with the entry's config, atomically publish. Concurrent pulls of one model
 * wait for the first. `DENSEPOSE_OFFLINE=1` (or `offline`) makes a missing model a `NOT_FOUND` error.
 */
export async function pullModel(name: string, options: ZooOptions = {}): Promise<CachedModel> {
  const env = options.env ?? process.env;
  const { index, configBase } = loadZooIndex(options);
  const entry = getZooEntry(index, name);
  const root = zooCacheDir(options);
  const done = cachedEntry(entry, root);
  if (done) return done;
  const dir = join(root, entry.name);
  const offline = options.offline ?? env['DENSEPOSE_OFFLINE'] === '1';
  if (offline) {
    throw new DensePoseError('NOT_FOUND', `model "${entry.name}" is not in the cache (${dir}) and DENSEPOSE_OFFLINE=1 forbids downloading it from ${entry.url}. Pull it where there is a network ("densepose models pull ${entry.name}") and copy ${root}, or unset DENSEPOSE_OFFLINE.`);
  }
  mkdirSync(dir, { recursive: true });
  const report = (phase: PullProgress['phase'], received: number, total: number | undefined, resumedFrom = 0) =>
    options.onProgress?.({ model: entry.name, phase, received, total, resumedFrom });
  const lock = await acquireLock(join(root, `${entry.name}.lock`), options.signal ? { signal: options.signal } : {}, () => report('wait', 0, undefined));
  const keepAlive = setInterval(() => lock.touch(), 5_000);
  try {
    const ready = cachedEntry(entry, root); // another puller may have finished while we waited
    if (ready) return ready;
    const file = checkpointName(entry);
    const part = join(dir, `${file}.part`);
    await downloadFile(entry.url, part, {
      onProgress: (r, t, from) => report('download', r, t, from),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const bytes = statSync(part).size;
    report('verify', bytes, bytes);
    const hashes = await hashFile(part);
    if (!hashes.md5.startsWith(entry.md5Prefix) || (entry.sha256 !== undefined && hashes.sha256 !== entry.sha256)) {
      rmSync(part, { force: true });
      const want = entry.sha256 !== undefined ? `md5 ${entry.md5Prefix}… and sha256 ${entry.sha256}` : `md5 ${entry.md5Prefix}…`;
      throw new DensePoseError('BAD_FILE', `checksum mismatch for model "${entry.name}": got md5 ${hashes.md5} (sha256 ${hashes.sha256}), the index says ${want}; the download was deleted and nothing was cached`, { where: entry.url });
    }
    const checkpoint = join(dir, file);
    renameSync(part, checkpoint);
    report('convert', bytes, bytes);
    const configPath = resolve(configBase, entry.config);
    await convertCheckpoint(checkpoint, configPath, join(dir, MODEL_FILE), entry);
    if (!options.keepCheckpoint) rmSync(checkpoint, { force: true });
    const manifest: ZooManifest = {
      version: 1,
      name: entry.name,
      url: entry.url,
      md5: hashes.md5,
      sha256: hashes.sha256,
      bytes,
      config: entry.config,
      modelFile: MODEL_FILE,
      ...(options.keepCheckpoint ? { checkpoint: file } : {}),
      licence: index.licence,
      pulledAt: new Date().toISOString(),
    };
    const tmp = join(dir, `${MANIFEST}.tmp-${process.pid}`);
    writeFileSync(tmp, JSON.stringify(manifest, null, 1));
    renameSync(tmp, join(dir, MANIFEST));
    report('done', bytes, bytes);
    return { name: entry.name, dir, modelFile: join(dir, MODEL_FILE), manifest };
  } finally {
    clearInterval(keepAlive);
    lock.release();
  }
}

/** detectron2 checkpoint → model file at `out` (written to a temporary name, then renamed). */
async function convertCheckpoint(checkpoint: string, configPath: string, out: string, entry: ZooEntry): Promise<void> {
  // Conversion builds the model on tfjs (loaded only here: the cache's other functions, exported by the
  // package entry, must not load tfjs); use the backend already chosen, else the plain CPU one.
  const [tf, { saveModel }, { buildDensePoseRcnn }, { loadModelConfigFile }, { loadDetectron2 }, { initBackend }] = await Promise.all([
    import('@tensorflow/tfjs-core'),
    import('../infer/model-file.ts'),
    import('../model/densepose-rcnn.ts'),
    import('../model/detectron2-config.ts'),
    import('../model/import-detectron2.ts'),
    import('../runtime/backend.ts'),
  ]);
  if (!tf.engine().backendName) await initBackend({ backend: 'cpu' });
  const config = loadModelConfigFile(configPath);
  const rcnn = buildDensePoseRcnn(config, configPath);
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    loadDetectron2(rcnn.model, checkpoint);
    await saveModel(tmp, rcnn, { 'densepose_ts.converted_from': `detectron2:${basename(checkpoint)}`, 'densepose_ts.zoo_model': entry.name });
    renameSync(tmp, out);
  } finally {
    rcnn.model.dispose();
    rmSync(tmp, { force: true });
  }
}

/** Names of cache entries on disk that the index no longer lists (for `models list`). */
export function strayCacheEntries(options: ZooOptions = {}): string[] {
  const root = zooCacheDir(options);
  if (!existsSync(root)) return [];
  const known = new Set(loadZooIndex(options).index.models.map((m) => m.name));
  return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && !known.has(d.name)).map((d) => d.name);
}
