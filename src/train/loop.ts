import * as tf from '@tensorflow/tfjs-core';
import '../runtime/gradients.ts';
import { join } from 'node:path';
import { DensePoseError } from '../errors.ts';
import { ensureDir } from '../io.ts';
import type { Module } from '../runtime/module.ts';
import { Checkpointer } from './checkpointer.ts';
import { MetricsLog, type MetricsRow } from './metrics-log.ts';
import type { TrainSample } from './sample.ts';
import { learningRate } from './schedule.ts';
import { createOptimizer } from './optimizer.ts';
import type { SolverConfig } from './config.ts';
import { gradientTensors, type GradientTrainable } from './onnx/onnx-trainer.ts';

/** What the loop trains: a module and a function from a batch to named scalar losses. */
export interface TrainableModel {
  readonly module: Module;
  /** Loss terms for one batch (already weighted); called inside `tf.variableGrads`. */
  lossTerms(batch: TrainSample[], iteration: number): Record<string, tf.Scalar>;
}

export interface LoopOptions {
  /** tfjs: losses to differentiate with `tf.variableGrads`; ONNX Runtime: a model that brings its own gradients. */
  model: TrainableModel | GradientTrainable;
  /** Batches as a pure function of the iteration (see DataLoader). */
  loader: { batch(iteration: number): Promise<TrainSample[]> };
  solver: SolverConfig;
  /** Run folder: `metrics.jsonl`, `checkpoints/`. */
  out: string;
  /** Continue from the newest checkpoint in `out` (the log is cut back to it). @default false */
  resume?: boolean;
  /** Stop cleanly (a checkpoint is saved first) when aborted, e.g. on SIGINT. */
  signal?: AbortSignal;
  /** Log a row every this many iterations. @default 1 */
  logPeriod?: number;
  /** Called with every row written to the log (progress bars, tests). */
  onLog?: (row: MetricsRow) => void;
  /** Validation every `evalPeriod` iterations (and at the end); returns scores for the log. */
  validate?: (iteration: number) => Promise<Record<string, number>>;
  /** @default 0 (only at the end) */
  evalPeriod?: number;
  /** Metadata stored in each checkpoint (e.g. the config JSON). */
  metadata?: Record<string, string>;
}

export interface LoopResult {
  /** Iterations completed (the next one to run). */
  iteration: number;
  stopped: 'finished' | 'aborted';
  lastCheckpoint: string | undefined;
}

/**
 * Stop condition: a non-finite loss or gradient norm means the run diverged. Throws NUMERIC (exit 5
 * in the CLI) naming the iteration, the terms, and the checkpoint kept; nothing after it is saved.
 */
export function assertFiniteStep(step: { iteration: number; total: number; gradNorm?: number; losses: Record<string, number>; lastFinite?: Record<string, number>; lastCheckpoint?: string }): void {
  const what = !Number.isFinite(step.total) ? `loss became ${step.total}` : step.gradNorm !== undefined && !Number.isFinite(step.gradNorm) ? `gradient norm became ${step.gradNorm} (loss ${step.total})` : undefined;
  if (what === undefined) return;
  throw new DensePoseError(
    'NUMERIC',
    `training diverged: ${what} at iteration ${step.iteration} (${JSON.stringify(step.losses)}); last finite losses: ${JSON.stringify(step.lastFinite ?? {})}. ` +
      `The last good checkpoint is kept${step.lastCheckpoint ? `: ${step.lastCheckpoint}` : ' (none saved yet)'} and no final model is written; lower solver.baseLr, raise warmupIters or set clipNorm.`,
  );
}

/** Stop condition: a batch with no images (every image drawn failed to load) cannot train. */
export function assertBatchHasImages(batch: readonly unknown[], iteration: number): void {
  if (batch.length === 0) {
    throw new DensePoseError('BAD_INPUT', `iteration ${iteration}: none of the images drawn for the batch could be loaded (see the skipped-image list); check the data sets and input.minSizeTrain`);
  }
}

/**
 * Training with SGD or AdamW, warmup + multi-step or cosine LR, gradient clipping, JSONL metrics, atomic checkpoints and
 * exact resume: data are a pure function of (seed, iteration) and model + momentum come from the
 * checkpoint, so a resumed run repeats the uninterrupted run's loss sequence.
 */
export async function runTrainingLoop(o: LoopOptions): Promise<LoopResult> {
  ensureDir(o.out);
  const log = new MetricsLog(join(o.out, 'metrics.jsonl'));
  const ckpt = new Checkpointer(join(o.out, 'checkpoints'), o.solver.keepCheckpoints);
  const sgd = createOptimizer(o.solver);
  ckpt.removeStaleTemps();
  let start = 0;
  if (o.resume && ckpt.latest()) {
    start = ckpt.restore(o.model.module, sgd).iteration;
    log.truncateFrom(start);
  } else {
    log.truncateFrom(0);
  }
  const named = o.model.module.namedParameters().filter(([, p]) => p.trainable);
  const params = new Map(named.map(([n, p]) => [n, p.variable]));
  const nameOfVar = new Map(named.map(([n, p]) => [p.variable.name, n]));
  const vars = named.map(([, p]) => p.variable);
  const t0 = performance.now();
  let lastFinite: Record<string, number> | undefined;
  let lastCheckpoint = ckpt.latest();
  const logPeriod = o.logPeriod ?? 1;

  const save = async (iteration: number) => {
    lastCheckpoint = await ckpt.save(iteration, o.model.module, sgd, o.metadata);
  };

  try {
    for (let it = start; it < o.solver.maxIter; it++) {
      if (o.signal?.aborted) {
        await save(it);
        return { iteration: it, stopped: 'aborted', lastCheckpoint };
      }
      const batch = await o.loader.batch(it);
      assertBatchHasImages(batch, it);
      const lr = learningRate(it, o.solver);
      const { losses, total, byName } = await batchGradients(o.model, batch, it, vars, nameOfVar);
      if (!Number.isFinite(total)) tf.dispose([...byName.values()]);
      assertFiniteStep({ iteration: it, total, losses, lastFinite, lastCheckpoint });
      const { gradNorm } = sgd.step(params, byName, lr);
      tf.dispose([...byName.values()]);
      assertFiniteStep({ iteration: it, total, gradNorm, losses, lastFinite, lastCheckpoint });
      lastFinite = losses;
      if ((it + 1) % logPeriod === 0 || it === start) {
        const row: MetricsRow = { iteration: it, time: (performance.now() - t0) / 1000, lr, losses, totalLoss: total, gradNorm };
        log.append(row);
        o.onLog?.(row);
      }
      const done = it + 1;
      if (o.validate && o.evalPeriod && done % o.evalPeriod === 0 && done < o.solver.maxIter) {
        const row: MetricsRow = { iteration: it, val: await o.validate(done) };
        log.append(row);
        o.onLog?.(row);
      }
      if (done % o.solver.checkpointPeriod === 0 && done < o.solver.maxIter) await save(done);
    }
    await save(o.solver.maxIter);
    if (o.validate) {
      const row: MetricsRow = { iteration: o.solver.maxIter - 1, val: await o.validate(o.solver.maxIter) };
      log.append(row);
      o.onLog?.(row);
    }
    return { iteration: o.solver.maxIter, stopped: 'finished', lastCheckpoint };
  } finally {
    sgd.dispose();
  }
}

/** Losses and gradients (tfjs tensors by parameter name, the caller disposes) of one batch on either engine. */
async function batchGradients(
  model: TrainableModel | GradientTrainable,
  batch: TrainSample[],
  it: number,
  vars: tf.Variable[],
  nameOfVar: ReadonlyMap<string, string>,
): Promise<{ losses: Record<string, number>; total: number; byName: Map<string, tf.Tensor> }> {
  if ('gradients' in model) {
    const r = await model.gradients(batch, it);
    const total = Object.values(r.losses).reduce((a, b) => a + b, 0);
    return { losses: r.losses, total, byName: gradientTensors(model.module, r.grads) };
  }
  let terms: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    terms = model.lossTerms(batch, it);
    for (const t of Object.values(terms)) tf.keep(t);
    const all = Object.values(terms);
    return all.length ? (tf.addN(all) as tf.Scalar) : tf.scalar(0);
  }, vars);
  const losses: Record<string, number> = {};
  for (const [k, t] of Object.entries(terms)) {
    losses[k] = t.dataSync()[0]!;
    t.dispose();
  }
  const total = value.dataSync()[0]!;
  value.dispose();
  const byName = new Map<string, tf.Tensor>();
  for (const [vn, g] of Object.entries(grads)) byName.set(nameOfVar.get(vn) ?? vn, g);
  return { losses, total, byName };
}
