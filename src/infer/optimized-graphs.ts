// ONNX Runtime's optimized stage graphs, cached in ORT's own format: opening a model directory then
// skips protobuf parsing, the copy of every initializer and the graph optimizations that take most of a
// zoo model's load (R50: 3 stages, 243 MB). Saved at the session's level and reopened with optimizations
// off, so a cached session computes exactly what a fresh one does. Level 'all' bakes in layouts for this
// CPU, so the key names the CPU. CPU provider only (another provider's node assignment must not be baked
// into the file).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createSession, type OnnxSession, type SessionOptions } from '../runtime/onnx/session.ts';

/** Subfolder of the cache root holding optimized graphs. */
export const OPTIMIZED_SUBDIR = 'ort-optimized';

/** Bump when what is saved changes (level, format). */
const FORMAT = 1;

let ortVersion: string | undefined;
function onnxruntimeVersion(): string {
  ortVersion ??= (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  return ortVersion;
}

/** The cache file of graph `file` optimized at `level` (path, size and mtime identify it; ORT's version, the CPU and our format too). */
export function optimizedGraphPath(cacheRoot: string, file: string, level: 'all' | 'extended' = 'all'): string {
  const path = resolve(file);
  const st = statSync(path);
  const cpu = `${process.arch} ${cpus()[0]?.model ?? ''}`;
  const key = createHash('sha256').update(JSON.stringify({ path, size: st.size, mtimeMs: st.mtimeMs, level, cpu, ort: onnxruntimeVersion(), FORMAT })).digest('hex').slice(0, 32);
  return join(cacheRoot, OPTIMIZED_SUBDIR, `${key}.ort`);
}

/** The level a session with `options` is cached at, or undefined where it is not cached. */
function cachedLevel(options: SessionOptions): 'all' | 'extended' | undefined {
  const level = options.graphOptimization ?? 'all';
  return (options.executionProvider ?? 'cpu') === 'cpu' && (level === 'all' || level === 'extended') ? level : undefined;
}

/**
 * A session on the `.onnx` file `file`, through the optimized-graph cache under `cacheRoot`: the cached
 * ORT-format graph when there is one, else the graph is optimized once, saved (atomically) and opened.
 */
export async function createCachedSession(file: string, cacheRoot: string | undefined, options: SessionOptions = {}): Promise<OnnxSession> {
  const level = cachedLevel(options);
  if (cacheRoot === undefined || level === undefined) return createSession(file, options);
  const cached = optimizedGraphPath(cacheRoot, file, level);
  let bytes: Uint8Array | undefined;
  try {
    bytes = readFileSync(cached);
  } catch {
    // not cached yet: optimize once (a temporary session), keep the file
    mkdirSync(join(cacheRoot, OPTIMIZED_SUBDIR), { recursive: true });
    const tmp = `${cached}.tmp-${process.pid}-${Date.now().toString(36)}.ort`;
    try {
      await (await createSession(file, { ...options, saveOptimizedTo: tmp })).dispose();
      renameSync(tmp, cached);
      bytes = readFileSync(cached);
    } catch {
      // an unwritable cache costs speed, not the load
      return createSession(file, options);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  try {
    return await createSession(bytes, { ...options, graphOptimization: 'disabled', ortFormatBytes: true });
  } catch {
    // a damaged cache file: drop it and open the graph itself
    rmSync(cached, { force: true });
    return createSession(file, options);
  }
}
