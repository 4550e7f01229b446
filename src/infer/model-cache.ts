// The export cache: a `.safetensors` model is exported to a model directory once, under
// `<cache root>/exports/<fingerprint>/`, and later loads open that directory with ONNX Runtime alone.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DensePoseError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { cacheDir } from './cache-dir.ts';
import { MODEL_DIR_VERSION } from './model-dir-files.ts';
import { isModelDir } from './model-dir.ts';
import { PIPELINE_SPEC_VERSION } from './spec.ts';

/** Bump when the exported graphs of the same weights change (the ONNX exporter, stage outputs). */
export const EXPORT_FORMAT = 2;

/** Subfolder of the cache root holding exported models. */
export const EXPORTS_SUBDIR = 'exports';

const SAMPLES = 16;
const SAMPLE_BYTES = 4096;

/**
 * A fingerprint of a safetensors model file that is cheap to take (hashing a 250 MB R50 file would
 * cost most of the load-time budget): its header (config, tensor names, dtypes, shapes, offsets),
 * size, modification time and 16 sampled 4 KB blocks of the weights, plus the config override and the
 * export format versions. Any rewrite of the file changes its mtime.
 */
export function modelFingerprint(file: string, config?: ModelConfig): string {
  const st = statSync(file);
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, config: config ?? null, EXPORT_FORMAT, MODEL_DIR_VERSION, PIPELINE_SPEC_VERSION }));
  const fd = openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const headerLen = Number(len.readBigUInt64LE(0));
    if (!(headerLen > 0 && headerLen + 8 <= st.size)) throw new DensePoseError('BAD_FILE', `not a safetensors file (header length ${headerLen}, file size ${st.size})`, { where: file });
    const header = Buffer.alloc(headerLen);
    readSync(fd, header, 0, headerLen, 8);
    hash.update(header);
    const start = 8 + headerLen;
    const block = Buffer.alloc(SAMPLE_BYTES);
    for (let i = 0; i < SAMPLES; i++) {
      const at = start + Math.floor(((st.size - start - SAMPLE_BYTES) * i) / (SAMPLES - 1));
      hash.update(block.subarray(0, readSync(fd, block, 0, SAMPLE_BYTES, Math.max(start, at))));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex').slice(0, 32);
}

/** Options of {@link cachedModelDir}. */
export interface ModelCacheOptions {
  /** Config overriding the model file's. */
  config?: ModelConfig;
  /** Cache root. @default cacheDir() */
  cacheDir?: string;
}

/**
 * The model directory of the model file `file`, exported now (tfjs is imported only then) or found in
 * the cache. Concurrent first loads each export and the first to finish wins (atomic rename).
 */
export async function cachedModelDir(file: string, options: ModelCacheOptions = {}): Promise<{ dir: string; exported: boolean }> {
  const path = resolve(file);
  const fingerprint = modelFingerprint(path, options.config);
  const dir = join(options.cacheDir ?? cacheDir(), EXPORTS_SUBDIR, fingerprint);
  if (isModelDir(dir)) return { dir, exported: false };
  const { exportModelFile } = await import('./export-model.ts');
  await exportModelFile(path, dir, { ...(options.config ? { config: options.config } : {}), overwrite: 'keep', fingerprint });
  return { dir, exported: true };
}

/** Options of {@link exportModel}. */
export interface ExportModelDirOptions {
  /** Config overriding the model file's. */
  config?: ModelConfig;
  /** Replace an existing output directory. @default false */
  overwrite?: boolean;
}

/** Export the model file `file` (safetensors) to the model directory `outDir`; tfjs is loaded for this only. */
export async function exportModel(file: string, outDir: string, options: ExportModelDirOptions = {}): Promise<void> {
  const path = resolve(file);
  const fingerprint = modelFingerprint(path, options.config);
  const { exportModelFile } = await import('./export-model.ts');
  await exportModelFile(path, outDir, { ...(options.config ? { config: options.config } : {}), overwrite: options.overwrite ?? false, fingerprint });
}
