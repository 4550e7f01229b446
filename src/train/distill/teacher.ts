// The teacher of data distillation: a training run folder or a model file, built and loaded on tfjs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DensePoseError } from '../../errors.ts';
import { fromConfig, type ModelConfig } from '../../model/config.ts';
import { buildDensePoseRcnn, type DensePoseRcnn } from '../../model/densepose-rcnn.ts';
import { LAYOUT_KEY, OPTIMIZER_STATE_PREFIX, OUR_LAYOUT, readSafetensors } from '../../runtime/checkpoint/index.ts';
import type { ArrayValue } from '../../runtime/module.ts';

/** Optimiser state inside training checkpoints (see checkpointer.ts); not part of the model. */

/**
 * The weights file of a teacher: a `.safetensors` model file as given; a run folder's
 * `model_final.safetensors`, else the checkpoint its `checkpoints/last_checkpoint` names.
 */
export function resolveTeacherFile(path: string): string {
  if (!existsSync(path)) throw new DensePoseError('NOT_FOUND', 'teacher not found (expected a run folder of `densepose train` or a .safetensors model file)', { where: path });
  if (!statSync(path).isDirectory()) return path;
  const final = join(path, 'model_final.safetensors');
  if (existsSync(final)) return final;
  const last = join(path, 'checkpoints', 'last_checkpoint');
  if (existsSync(last)) {
    const file = join(path, 'checkpoints', readFileSync(last, 'utf8').trim());
    if (existsSync(file)) return file;
    throw new DensePoseError('NOT_FOUND', `${last} names ${file}, which does not exist`, { where: path });
  }
  throw new DensePoseError('NOT_FOUND', 'run folder has neither model_final.safetensors nor checkpoints/last_checkpoint', { where: path });
}

/** Model config of a teacher: `config` in the file's metadata, else the run folder's `config.json` `model`. */
function teacherConfig(file: string, metadata: Record<string, string>, runDir: string | undefined): ModelConfig {
  const text = metadata.config;
  if (text !== undefined) {
    try {
      return fromConfig(JSON.parse(text), `${file} (metadata "config")`);
    } catch (e) {
      if (e instanceof DensePoseError) throw e;
      throw new DensePoseError('BAD_FILE', `metadata "config" is not valid JSON: ${(e as Error).message}`, { where: file, cause: e });
    }
  }
  const runConfig = runDir ? join(runDir, 'config.json') : undefined;
  if (runConfig && existsSync(runConfig)) {
    const json = JSON.parse(readFileSync(runConfig, 'utf8')) as { model?: unknown };
    if (json.model !== undefined) return fromConfig(json.model, `${runConfig} "model"`);
  }
  throw new DensePoseError('MISSING_KEY', 'teacher has no model config (no "config" in the safetensors metadata and no run config.json with "model")', { where: file });
}

/**
 * Build and load a teacher from a run folder or model file (needs an initialised tfjs backend).
 * Optimiser entries of training checkpoints are skipped; every model parameter must be present.
 * `config` overrides the stored model config.
 */
export function loadTeacher(path: string, config?: ModelConfig): DensePoseRcnn {
  const file = resolveTeacherFile(path);
  const { tensors, metadata } = readSafetensors(file);
  const layout = metadata[LAYOUT_KEY];
  if (layout !== undefined && layout !== OUR_LAYOUT) {
    throw new DensePoseError('BAD_FILE', `checkpoint layout is "${layout}", expected "${OUR_LAYOUT}" (convert it with \`densepose convert\`)`, { where: file });
  }
  const rcnn = buildDensePoseRcnn(config ?? teacherConfig(file, metadata, statSync(path).isDirectory() ? path : undefined), file);
  const state = new Map<string, ArrayValue>();
  for (const [name, a] of tensors) {
    if (name.startsWith(OPTIMIZER_STATE_PREFIX)) continue;
    if (!(a.data instanceof Float32Array)) {
      rcnn.model.dispose();
      throw new DensePoseError('BAD_FILE', `tensor "${name}" is ${a.dtype}, expected float32`, { where: file });
    }
    state.set(name, { shape: a.shape, data: a.data });
  }
  try {
    rcnn.model.loadStateDict(state, { strict: true, source: file });
  } catch (e) {
    rcnn.model.dispose();
    throw e;
  }
  return rcnn;
}
