import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DensePoseError } from '../errors.ts';
import type { Module, ArrayValue } from '../runtime/module.ts';
import { assertFiniteTensors, LAYOUT_KEY, OPTIMIZER_STATE_PREFIX, OUR_LAYOUT, readSafetensors, tensorsToNdArrays, writeSafetensors } from '../runtime/checkpoint/index.ts';
import { ensureDir, removeStaleTempFiles } from '../io.ts';
import { writeFileAtomic } from '../runtime/checkpoint/atomic-write.ts';
import type { Optimizer } from './optimizer.ts';

const LAST = 'last_checkpoint';

export interface TrainingState {
  iteration: number;
  /** Free-form metadata saved with the checkpoint (config hash, last losses). */
  metadata: Record<string, string>;
}

/**
 * Training checkpoints in `dir`: `model_0000100.safetensors` (model + optimiser state, atomic write),
 * `last_checkpoint` naming the newest, and only the newest `keep` files kept. The model part loads
 * with `loadCheckpoint` like any model file (optimiser entries are skipped there).
 */
export class Checkpointer {
  constructor(
    readonly dir: string,
    readonly keep = 3,
  ) {
    ensureDir(dir);
  }

  static fileName(iteration: number): string {
    return `model_${String(iteration).padStart(7, '0')}.safetensors`;
  }

  /** Save the state reached after `iteration` iterations. */
  async save(iteration: number, model: Module, optimizer: Optimizer, metadata: Record<string, string> = {}): Promise<string> {
    const tensors = new Map<string, tf.Tensor>(model.stateDict());
    for (const [name, t] of optimizer.state()) tensors.set(OPTIMIZER_STATE_PREFIX + name, t);
    const arrays = await tensorsToNdArrays(tensors);
    const file = Checkpointer.fileName(iteration);
    const path = join(this.dir, file);
    assertFiniteTensors(arrays, path, 'to save');
    writeSafetensors(path, arrays, { ...metadata, iteration: String(iteration), [LAYOUT_KEY]: OUR_LAYOUT });
    writeFileAtomic(join(this.dir, LAST), [Buffer.from(file)]);
    this.prune();
    return path;
  }

  /** Delete temporary files of checkpoint writes a kill interrupted (`model_….safetensors.tmp-…`); returns their names. */
  removeStaleTemps(): string[] {
    return removeStaleTempFiles(this.dir);
  }

  /** Path of the newest checkpoint, or undefined when there is none. */
  latest(): string | undefined {
    const last = join(this.dir, LAST);
    if (!existsSync(last)) return undefined;
    const path = join(this.dir, readFileSync(last, 'utf8').trim());
    return existsSync(path) ? path : undefined;
  }

  /** Restore model and optimiser from `path` (default: newest); returns the iteration to continue from. */
  restore(model: Module, optimizer: Optimizer, path = this.latest()): TrainingState {
    if (!path) throw new DensePoseError('NOT_FOUND', `no checkpoint to resume from`, { where: join(this.dir, LAST) });
    const { tensors, metadata } = readSafetensors(path);
    assertFiniteTensors(tensors, path);
    const modelState = new Map<string, ArrayValue>();
    const optState = new Map<string, tf.Tensor>();
    for (const [name, a] of tensors) {
      if (name.startsWith(OPTIMIZER_STATE_PREFIX)) optState.set(name.slice(OPTIMIZER_STATE_PREFIX.length), tf.tensor(a.data as Float32Array, a.shape));
      else modelState.set(name, { shape: a.shape, data: a.data as Float32Array });
    }
    model.loadStateDict(modelState, { strict: true, source: path });
    optimizer.loadState(optState);
    for (const t of optState.values()) t.dispose();
    const iteration = Number(metadata.iteration);
    if (!Number.isInteger(iteration)) throw new DensePoseError('BAD_FILE', 'checkpoint has no integer "iteration" in its metadata', { where: path });
    return { iteration, metadata };
  }

  private prune(): void {
    const files = readdirSync(this.dir)
      .filter((f) => /^model_\d{7}\.safetensors$/.test(f))
      .sort();
    for (const f of files.slice(0, Math.max(0, files.length - this.keep))) rmSync(join(this.dir, f), { force: true });
  }
}

/**
 * A training checkpoint → a model file (what `createDensePose` and `densepose infer` read): the model
 * tensors and the config metadata, without optimiser state. `path` may be a run folder (newest checkpoint).
 */
export function exportModelFile(path: string, out: string): string {
  const source = existsSync(join(path, 'checkpoints')) ? new Checkpointer(join(path, 'checkpoints')).latest() : path;
  if (!source || !existsSync(source)) throw new DensePoseError('NOT_FOUND', 'no checkpoint found', { where: path });
  const { tensors, metadata } = readSafetensors(source);
  if (!metadata.config) throw new DensePoseError('BAD_FILE', 'checkpoint has no model config in its metadata ("config")', { where: source });
  const model = new Map([...tensors].filter(([name]) => !name.startsWith(OPTIMIZER_STATE_PREFIX)));
  writeSafetensors(out, model, { config: metadata.config, [LAYOUT_KEY]: OUR_LAYOUT, 'densepose_ts.trained_iterations': metadata.iteration ?? '' });
  return source;
}
