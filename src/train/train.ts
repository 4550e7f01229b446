import { join } from 'node:path';
import { DensePoseError } from '../errors.ts';
import { ensureDir, writeFileAtomicSync } from '../io.ts';
import { fromConfig } from '../model/config.ts';
import { buildDensePoseRcnn, type DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { loadCheckpoint, saveCheckpoint } from '../runtime/checkpoint/index.ts';
import { seedInit } from '../runtime/layers.ts';
import { initBackend, type BackendName } from '../runtime/backend.ts';
import type { TrainConfig, TrainEngine } from './config.ts';
import { OnnxRcnnTrainer } from './onnx/onnx-trainer.ts';
import type { ExecutionProvider } from '../runtime/onnx/session.ts';
import { loadTrainingSet } from './datasets.ts';
import { DataLoader } from './loader.ts';
import { runTrainingLoop, type LoopResult } from './loop.ts';
import type { MetricsRow } from './metrics-log.ts';
import { rcnnTrainable } from './rcnn-trainable.ts';
import type { FlipSymmetry } from './sample.ts';
import { validateRcnn } from './validate.ts';

export interface TrainOptions {
  /** Run folder (metrics.jsonl, checkpoints/, config.json, curves.png). */
  out: string;
  /** Continue from the newest checkpoint in `out`. @default false */
  resume?: boolean;
  /** Abort cleanly (a checkpoint is saved) — e.g. from SIGINT. */
  signal?: AbortSignal;
  /** Every metrics row (losses per iteration, validation scores). */
  onLog?: (row: MetricsRow) => void;
  /** Images that failed to load (skipped). */
  onBadImage?: (file: string, reason: string) => void;
  /** Mirror table for flip augmentation of DensePose labels; without it flips are off. */
  symmetry?: FlipSymmetry;
  /** Validation hook (bbox/DensePose AP on a val set), called every `evalPeriod` iterations. */
  validate?: (rcnn: DensePoseRcnn, iteration: number) => Promise<Record<string, number>>;
  /** tfjs backend (the tfjs engine, the optimiser's arithmetic, validation). @default wasm */
  backend?: BackendName;
  /** Overrides the config's `engine`. */
  engine?: TrainEngine;
  /** ONNX Runtime execution provider of the onnx engine (CPU fallback as for inference). @default 'cpu' */
  executionProvider?: ExecutionProvider;
  /** ONNX Runtime intra-op threads of the onnx engine; 0 = one per physical core. @default 0 */
  threads?: number;
}

export interface TrainResult extends LoopResult {
  rcnn: DensePoseRcnn;
}

/**
 * Train a DensePose R-CNN as `config` says (library form of `densepose train`). The returned model
 * is the caller's to dispose (`result.rcnn.model.dispose()`).
 */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  await initBackend({ backend: options.backend });
  if (config.data.length === 0) throw new DensePoseError('BAD_CONFIG', 'the training config lists no data sets ("data": [{ "path": … }], or --data DIR)');
  ensureDir(options.out);
  writeFileAtomicSync(join(options.out, 'config.json'), [Buffer.from(JSON.stringify(config, null, 2))]);
  const modelConfig = fromConfig(config.model, `${options.out}/config.json model`);
  seedInit(config.seed * 7919 + 1);
  const rcnn = buildDensePoseRcnn(modelConfig);
  if (config.init && !options.resume) loadCheckpoint(config.init, rcnn.model, { strict: false });
  const datasets = await Promise.all(config.data.map((d) => loadTrainingSet(d.path, { ratio: d.ratio, targets: d.targets, symmetry: options.symmetry, onSkip: options.onBadImage })));
  const loader = new DataLoader({
    datasets,
    batchSize: config.solver.imsPerBatch,
    seed: config.seed,
    augment: { minSizes: config.input.minSizeTrain, maxSize: config.input.maxSizeTrain, flipProbability: config.input.flipProbability, colorJitter: config.input.colorJitter },
    onBadImage: (file, e) => options.onBadImage?.(file, e.message),
  });
  const trainOptions = { mode: config.mode, seed: config.seed, datasetLossWeights: config.data.map((d) => d.lossWeight ?? 1) };
  const engine = options.engine ?? config.engine ?? 'onnx';
  const trainable = engine === 'onnx' ? new OnnxRcnnTrainer(rcnn, trainOptions, { executionProvider: options.executionProvider, threads: options.threads }) : rcnnTrainable(rcnn, trainOptions);
  rcnn.model.train();
  const result = await runTrainingLoop({
    model: trainable,
    loader,
    solver: config.solver,
    out: options.out,
    resume: options.resume,
    signal: options.signal,
    logPeriod: config.logPeriod,
    onLog: options.onLog,
    evalPeriod: config.evalPeriod,
    validate: options.validate
      ? (it) => options.validate!(rcnn, it)
      : config.val
        ? () => validateRcnn(rcnn, config.val!, { minSizeTest: config.input.minSizeTest, maxSizeTest: config.input.maxSizeTest, maxImages: config.valImages })
        : undefined,
    metadata: { config: JSON.stringify(modelConfig) },
  }).finally(() => ('dispose' in trainable ? trainable.dispose() : undefined));
  rcnn.model.eval();
  // The model file users run: parameters only, with the model config, as `createDensePose` reads it.
  if (result.stopped === 'finished') await saveCheckpoint(join(options.out, 'model_final.safetensors'), rcnn.model, { config: JSON.stringify(modelConfig) });
  return { ...result, rcnn };
}
