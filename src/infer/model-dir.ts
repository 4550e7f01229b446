// Model directories on disk: read and (atomically) write spec + stage graphs + metadata. No tfjs:
// `createDensePose` opens a directory with ONNX Runtime alone.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DensePoseError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { MODEL_DIR_FILES, MODEL_DIR_VERSION } from './model-dir-files.ts';
import { PIPELINE_SPEC_VERSION, type PipelineSpec } from './spec.ts';
import { STAGES, type StageName } from './stage-names.ts';

/** `model.json` of a model directory. */
export interface ModelDirMetadata {
  format: 'densepose-ts model directory';
  version: number;
  /** The config the stages were exported from. */
  config: ModelConfig;
  /** The model file it was exported from, when there was one. */
  source?: { file: string; fingerprint: string };
}

/** A model directory's contents in memory. */
export interface ModelDir {
  spec: PipelineSpec;
  graphs: Record<StageName, Uint8Array>;
  metadata: ModelDirMetadata;
}

/** Whether `path` is a directory holding a model (its spec file). */
export function isModelDir(path: string): boolean {
  return existsSync(join(path, MODEL_DIR_FILES.spec)) && statSync(path).isDirectory();
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `cannot read model directory file: ${(e as Error).message}`, { where: path, cause: e });
  }
}

/** The spec and metadata of the model directory `dir`, checked; the stage graph paths. */
export function openModelDir(dir: string): { spec: PipelineSpec; metadata: ModelDirMetadata; graphPaths: Record<StageName, string> } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DensePoseError('BAD_FILE', 'model directory not found', { where: dir });
  const spec = readJson(join(dir, MODEL_DIR_FILES.spec)) as PipelineSpec;
  if (spec?.version !== PIPELINE_SPEC_VERSION) {
    throw new DensePoseError('BAD_FILE', `${MODEL_DIR_FILES.spec} has spec version ${String(spec?.version)}; this densepose-ts reads version ${PIPELINE_SPEC_VERSION} (export the model again)`, { where: dir });
  }
  const metadata = readJson(join(dir, MODEL_DIR_FILES.metadata)) as ModelDirMetadata;
  if (metadata?.version !== MODEL_DIR_VERSION) {
    throw new DensePoseError('BAD_FILE', `${MODEL_DIR_FILES.metadata} has version ${String(metadata?.version)}; expected ${MODEL_DIR_VERSION} (export the model again)`, { where: dir });
  }
  const graphPaths = {} as Record<StageName, string>;
  for (const stage of STAGES) {
    const p = join(dir, MODEL_DIR_FILES[stage]);
    if (!existsSync(p)) throw new DensePoseError('BAD_FILE', `model directory has no ${MODEL_DIR_FILES[stage]} (stage "${stage}")`, { where: dir });
    graphPaths[stage] = p;
  }
  return { spec, metadata, graphPaths };
}

/** Read a whole model directory into memory. */
export function readModelDir(dir: string): ModelDir {
  const { spec, metadata, graphPaths } = openModelDir(dir);
  const graphs = {} as Record<StageName, Uint8Array>;
  for (const stage of STAGES) graphs[stage] = new Uint8Array(readFileSync(graphPaths[stage]));
  return { spec, metadata, graphs };
}

/**
 * Write a model directory at `dir`: into a sibling temporary folder first, then one rename, so a
 * reader never sees half a model. An existing `dir` is replaced when `overwrite`, else it is an error
 * (`EXISTS`) — unless another writer finished the same `dir` meanwhile and `overwrite` is `'keep'`.
 */
export function writeModelDir(model: ModelDir, dir: string, options: { overwrite?: boolean | 'keep' } = {}): void {
  const overwrite = options.overwrite ?? false;
  if (existsSync(dir) && overwrite === false) throw new DensePoseError('BAD_OPTION', 'output already exists; pass --force (overwrite: true) to replace it', { where: dir });
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  try {
    mkdirSync(tmp);
    writeFileSync(join(tmp, MODEL_DIR_FILES.spec), JSON.stringify(model.spec, null, 1));
    writeFileSync(join(tmp, MODEL_DIR_FILES.metadata), JSON.stringify(model.metadata, null, 1));
    for (const stage of STAGES) writeFileSync(join(tmp, MODEL_DIR_FILES[stage]), model.graphs[stage]);
    if (existsSync(dir)) {
      if (overwrite === 'keep') return;
      rmSync(dir, { recursive: true, force: true });
    }
    renameSync(tmp, dir);
  } catch (e) {
    if (overwrite === 'keep' && isModelDir(dir)) return;
    if (e instanceof DensePoseError) throw e;
    throw new DensePoseError('BAD_FILE', `cannot write model directory: ${(e as Error).message}`, { where: dir, cause: e });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
