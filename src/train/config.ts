import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DensePoseError } from '../errors.ts';

/** One training data set: a COCO-DensePose folder (`annotations.json` + `images/`) with its share of batches. */
export interface DataSetConfig {
  /** Folder with `annotations.json` (or a path to the JSON itself). */
  path: string;
  /** Relative sampling ratio among data sets. @default 1 */
  ratio?: number;
  /** Multiplier of this set's DensePose losses (e.g. < 1 for pseudo-labels). @default 1 */
  lossWeight?: number;
}

export interface SolverConfig {
  /** @default 0.01 */
  baseLr: number;
  maxIter: number;
  /** @default 2 */
  imsPerBatch: number;
  /** @default 0.9 */
  momentum: number;
  /** @default 1e-4 */
  weightDecay: number;
  /** @default [] */
  steps: number[];
  /** @default 0.1 */
  gamma: number;
  /** @default 100 */
  warmupIters: number;
  /** @default 0.001 */
  warmupFactor: number;
  /** Global gradient-norm clip; 0 = off. @default 10 */
  clipNorm: number;
  /** Save a checkpoint every this many iterations. @default 500 */
  checkpointPeriod: number;
  /** Checkpoints kept. @default 3 */
  keepCheckpoints: number;
}

export interface InputConfig {
  /** Shortest-side sizes for multi-scale training. @default [240] */
  minSizeTrain: number[];
  /** @default 1333 */
  maxSizeTrain: number;
  /** @default 240 */
  minSizeTest: number;
  /** @default 1333 */
  maxSizeTest: number;
  /** @default 0.5 */
  flipProbability: number;
  /** @default 0.2 */
  colorJitter: number;
}

export interface TrainConfig {
  /** The model config (see configs/ and src/model), inline or as a path relative to this file. */
  model: unknown;
  /** `end2end` trains detector + head; `head` trains the DensePose head on ground-truth boxes (fast experiments). @default 'end2end' */
  mode: 'end2end' | 'head';
  data: DataSetConfig[];
  /** Validation set (COCO-DensePose folder); empty = no validation. */
  val?: string;
  /** Validate on at most this many images of `val`. @default all */
  valImages?: number;
  /** Validate every this many iterations; 0 = only at the end. @default 0 */
  evalPeriod: number;
  /** Log a metrics row every this many iterations. @default 1 */
  logPeriod: number;
  solver: SolverConfig;
  input: InputConfig;
  /** @default 0 */
  seed: number;
  /** Weights to start from (safetensors), e.g. a converted detectron2 checkpoint. */
  init?: string;
  /**
   * What computes losses and gradients: `onnx` = forward + backward graphs on ONNX Runtime (native, fast),
   * `tfjs` = the TensorFlow.js reference. Optimiser, schedule, checkpoints and data are the same. @default 'onnx'
   */
  engine: TrainEngine;
}

export const TRAIN_MODES = ['end2end', 'head'] as const;
export const TRAIN_ENGINES = ['onnx', 'tfjs'] as const;
export type TrainEngine = (typeof TRAIN_ENGINES)[number];

const SOLVER_DEFAULTS: SolverConfig = {
  baseLr: 0.01,
  maxIter: 1000,
  imsPerBatch: 2,
  momentum: 0.9,
  weightDecay: 1e-4,
  steps: [],
  gamma: 0.1,
  warmupIters: 100,
  warmupFactor: 0.001,
  clipNorm: 10,
  checkpointPeriod: 500,
  keepCheckpoints: 3,
};

const INPUT_DEFAULTS: InputConfig = {
  minSizeTrain: [240],
  maxSizeTrain: 1333,
  minSizeTest: 240,
  maxSizeTest: 1333,
  flipProbability: 0.5,
  colorJitter: 0.2,
};

/** Fill defaults and check a training config; `where` names the file in errors. Relative paths resolve against `baseDir`. */
export function resolveTrainConfig(raw: Partial<TrainConfig> & { model?: unknown }, baseDir: string, where = '<config>'): TrainConfig {
  const fail = (msg: string) => new DensePoseError('BAD_OPTION', msg, { where });
  if (raw.model === undefined) throw fail('"model" is required (a model config object or a path to one)');
  const mode = raw.mode ?? 'end2end';
  if (!(TRAIN_MODES as readonly string[]).includes(mode)) throw fail(`Unknown mode "${mode}". Expected one of: ${TRAIN_MODES.join(', ')}.`);
  const engine = raw.engine ?? 'onnx';
  if (!(TRAIN_ENGINES as readonly string[]).includes(engine)) throw fail(`Unknown engine "${engine}". Expected one of: ${TRAIN_ENGINES.join(', ')}.`);
  const solver = { ...SOLVER_DEFAULTS, ...(raw.solver ?? {}) };
  const input = { ...INPUT_DEFAULTS, ...(raw.input ?? {}) };
  for (const [k, v] of Object.entries(solver)) {
    if (k === 'steps') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw fail(`solver.${k} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  if (solver.maxIter < 1) throw fail('solver.maxIter must be ≥ 1');
  if (solver.imsPerBatch < 1) throw fail('solver.imsPerBatch must be ≥ 1');
  if (input.minSizeTrain.length === 0) throw fail('input.minSizeTrain must list at least one size');
  const model = typeof raw.model === 'string' ? JSON.parse(readFileSync(resolve(baseDir, raw.model), 'utf8')) : raw.model;
  const data = (raw.data ?? []).map((d) => ({ ...d, path: resolve(baseDir, d.path) }));
  return {
    model,
    mode,
    data,
    val: raw.val ? resolve(baseDir, raw.val) : undefined,
    valImages: raw.valImages,
    evalPeriod: raw.evalPeriod ?? 0,
    logPeriod: raw.logPeriod ?? 1,
    solver,
    input,
    seed: raw.seed ?? 0,
    init: raw.init ? resolve(baseDir, raw.init) : undefined,
    engine,
  };
}

/** Read and resolve a training config file (JSON). */
export function loadTrainConfig(path: string): TrainConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `cannot read training config: ${(e as Error).message}`, { where: path, cause: e });
  }
  return resolveTrainConfig(raw as Partial<TrainConfig>, dirname(resolve(path)), path);
}
