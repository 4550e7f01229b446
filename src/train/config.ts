import { dirname, resolve } from 'node:path';
import { DensePoseError, unknownKey } from '../errors.ts';
import { readJsonFile } from '../io.ts';
import { fromConfig } from '../model/config.ts';
import { densePoseConfigFromJson } from '../model/densepose/config.ts';
import { TARGET_KINDS, type TargetKind } from './datasets.ts';
import { OPTIMIZERS, type OptimizerName } from './optimizer.ts';
import { LR_SCHEDULES, type LrScheduleName } from './schedule.ts';

/** One training data set: a COCO-DensePose folder (`annotations.json` + `images/`) with its share of batches. */
export interface DataSetConfig {
  /** Folder with `annotations.json` (or a path to the JSON itself). */
  path: string;
  /** Relative sampling ratio among data sets. @default 1 */
  ratio?: number;
  /** Multiplier of this set's DensePose losses (e.g. < 1 for pseudo-labels). @default 1 */
  lossWeight?: number;
  /** `dense`: annotations with `dp_dense` train on every pixel (docs/dense-targets.md); `points`: sampled points only. @default 'dense' */
  targets?: TargetKind;
}

export interface SolverConfig {
  /** `sgd` (momentum, L2 weight decay: detectron2's) or `adamw` (decoupled weight decay). @default 'sgd' */
  optimizer: OptimizerName;
  /** AdamW's moment decay rates. @default [0.9, 0.999] */
  betas: [number, number];
  /** `multistep` (×gamma at `steps`, detectron2's WarmupMultiStepLR) or `cosine` (to 0 at maxIter, WarmupCosineLR). @default 'multistep' */
  lrSchedule: LrScheduleName;
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
  optimizer: 'sgd',
  betas: [0.9, 0.999],
  lrSchedule: 'multistep',
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

const TOP_KEYS = ['model', 'mode', 'data', 'val', 'valImages', 'evalPeriod', 'logPeriod', 'solver', 'input', 'seed', 'init', 'engine', 'name', 'comment'] as const;
const DATA_KEYS = ['path', 'ratio', 'lossWeight', 'targets'] as const;
/** Sizes beyond this are typos (a 100000-pixel side would not fit in memory anyway). */
const MAX_SIDE = 16384;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Unknown keys are errors: a typo ("sovler", "maxIters") would otherwise train with defaults silently. */
function checkKeys(o: Record<string, unknown>, section: string, valid: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!valid.includes(k)) throw unknownKey(section, k, valid, where);
}

/** `section.key` must be a finite number satisfying `ok` (described by `rule`). */
function checkNumber(v: unknown, name: string, ok: (n: number) => boolean, rule: string, where: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new DensePoseError('BAD_CONFIG', `${name} must be ${rule}, got ${JSON.stringify(v)}`, { where });
}

const isInt = (lo: number, hi = Number.MAX_SAFE_INTEGER) => (n: number) => Number.isInteger(n) && n >= lo && n <= hi;

/** Solver values: integers where counts are meant, ranges where they matter. */
function checkSolver(solver: SolverConfig, where: string): void {
  const ints: (keyof SolverConfig)[] = ['maxIter', 'imsPerBatch', 'checkpointPeriod'];
  for (const k of ints) checkNumber(solver[k], `solver.${k}`, isInt(1), 'an integer ≥ 1', where);
  for (const k of ['warmupIters', 'keepCheckpoints'] as const) checkNumber(solver[k], `solver.${k}`, isInt(0), 'an integer ≥ 0', where);
  checkNumber(solver.baseLr, 'solver.baseLr', (n) => n > 0, 'a number > 0', where);
  for (const k of ['momentum', 'warmupFactor'] as const) checkNumber(solver[k], `solver.${k}`, (n) => n >= 0 && n <= 1, 'a number in [0, 1]', where);
  for (const k of ['weightDecay', 'gamma', 'clipNorm'] as const) checkNumber(solver[k], `solver.${k}`, (n) => n >= 0, 'a number ≥ 0', where);
  if (!Array.isArray(solver.steps)) throw new DensePoseError('BAD_CONFIG', `solver.steps must be a list of iterations, got ${JSON.stringify(solver.steps)}`, { where });
  solver.steps.forEach((v, i) => checkNumber(v, `solver.steps[${i}]`, isInt(1), 'an integer ≥ 1', where));
  checkChoice(solver.optimizer, 'solver.optimizer', OPTIMIZERS, where);
  checkChoice(solver.lrSchedule, 'solver.lrSchedule', LR_SCHEDULES, where);
  if (!Array.isArray(solver.betas) || solver.betas.length !== 2) throw new DensePoseError('BAD_CONFIG', `solver.betas must be [beta1, beta2], got ${JSON.stringify(solver.betas)}`, { where });
  solver.betas.forEach((v, i) => checkNumber(v, `solver.betas[${i}]`, (n) => n >= 0 && n < 1, 'a number in [0, 1)', where));
}

function checkChoice(v: unknown, name: string, valid: readonly string[], where: string): void {
  if (typeof v !== 'string' || !valid.includes(v)) throw new DensePoseError('BAD_CONFIG', `Unknown ${name} ${JSON.stringify(v)}. Expected one of: ${valid.join(', ')}.`, { where });
}

function checkInput(input: InputConfig, where: string): void {
  if (!Array.isArray(input.minSizeTrain) || input.minSizeTrain.length === 0) {
    throw new DensePoseError('BAD_CONFIG', `input.minSizeTrain must list at least one shortest-side size, got ${JSON.stringify(input.minSizeTrain)}`, { where });
  }
  input.minSizeTrain.forEach((v, i) => checkNumber(v, `input.minSizeTrain[${i}]`, isInt(8, MAX_SIDE), `an integer in 8..${MAX_SIDE}`, where));
  for (const k of ['maxSizeTrain', 'minSizeTest', 'maxSizeTest'] as const) checkNumber(input[k], `input.${k}`, isInt(8, MAX_SIDE), `an integer in 8..${MAX_SIDE}`, where);
  for (const k of ['flipProbability', 'colorJitter'] as const) checkNumber(input[k], `input.${k}`, (n) => n >= 0 && n <= 1, 'a number in [0, 1]', where);
}

/** `data`: a list of `{ path, ratio?, lossWeight? }` (a bare path string is accepted for a single set). */
function checkData(raw: unknown, baseDir: string, where: string): DataSetConfig[] {
  if (raw === undefined) return [];
  const list = typeof raw === 'string' ? [{ path: raw }] : raw;
  if (!Array.isArray(list)) throw new DensePoseError('BAD_CONFIG', `"data" must be a list of data sets ([{ "path": "DIR" }]), got ${JSON.stringify(raw)}`, { where });
  return list.map((d: unknown, i) => {
    const entry = typeof d === 'string' ? { path: d } : d;
    if (!isObject(entry)) throw new DensePoseError('BAD_CONFIG', `data[${i}] must be { "path": "DIR" }, got ${JSON.stringify(d)}`, { where });
    checkKeys(entry, `data[${i}]`, DATA_KEYS, where);
    if (typeof entry.path !== 'string' || entry.path === '') throw new DensePoseError('BAD_CONFIG', `data[${i}].path must be a folder or JSON file path, got ${JSON.stringify(entry.path)}`, { where });
    if (entry.ratio !== undefined) checkNumber(entry.ratio, `data[${i}].ratio`, (n) => n > 0, 'a number > 0', where);
    if (entry.lossWeight !== undefined) checkNumber(entry.lossWeight, `data[${i}].lossWeight`, (n) => n >= 0, 'a number ≥ 0', where);
    if (entry.targets !== undefined && !(TARGET_KINDS as readonly unknown[]).includes(entry.targets)) {
      throw new DensePoseError('BAD_CONFIG', `Unknown data[${i}].targets ${JSON.stringify(entry.targets)}. Expected one of: ${TARGET_KINDS.join(', ')}.`, { where });
    }
    return { ...(entry as unknown as DataSetConfig), path: resolve(baseDir, entry.path) };
  });
}

/** The model config: inline, or a file path relative to the training config; validated here so typos fail before any work. */
function resolveModel(raw: unknown, baseDir: string, where: string): unknown {
  if (raw === undefined) throw new DensePoseError('BAD_CONFIG', '"model" is required (a model config object or a path to one)', { where });
  if (typeof raw !== 'string' && !isObject(raw)) throw new DensePoseError('BAD_CONFIG', `"model" must be a model config object or a path to one, got ${JSON.stringify(raw)}`, { where });
  const path = typeof raw === 'string' ? resolve(baseDir, raw) : undefined;
  const model = path ? readJsonFile(path, 'model config') : raw;
  const at = path ?? `${where} "model"`;
  fromConfig(model, at);
  densePoseConfigFromJson({ densepose: (model as { densepose?: unknown }).densepose ?? {} }, at);
  return model;
}

/** Fill defaults and check a training config strictly; `where` names the file in errors. Relative paths resolve against `baseDir`. */
export function resolveTrainConfig(raw: Partial<TrainConfig> & { model?: unknown }, baseDir: string, where = '<config>'): TrainConfig {
  if (!isObject(raw)) throw new DensePoseError('BAD_CONFIG', 'a training config must be a JSON object', { where });
  checkKeys(raw, '', TOP_KEYS, where);
  const mode = raw.mode ?? 'end2end';
  if (!(TRAIN_MODES as readonly string[]).includes(mode)) throw new DensePoseError('BAD_CONFIG', `Unknown mode "${mode}". Expected one of: ${TRAIN_MODES.join(', ')}.`, { where });
  for (const [key, valid] of [['solver', Object.keys(SOLVER_DEFAULTS)], ['input', Object.keys(INPUT_DEFAULTS)]] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (!isObject(v)) throw new DensePoseError('BAD_CONFIG', `"${key}" must be an object`, { where });
    checkKeys(v, key, valid, where);
  }
  const engine = raw.engine ?? 'onnx';
  if (!(TRAIN_ENGINES as readonly string[]).includes(engine)) throw new DensePoseError('BAD_CONFIG', `Unknown engine "${engine}". Expected one of: ${TRAIN_ENGINES.join(', ')}.`, { where });
  const solver = { ...SOLVER_DEFAULTS, ...(raw.solver ?? {}) };
  const input = { ...INPUT_DEFAULTS, ...(raw.input ?? {}) };
  checkSolver(solver, where);
  checkInput(input, where);
  for (const k of ['val', 'init'] as const) {
    if (raw[k] !== undefined && (typeof raw[k] !== 'string' || raw[k] === '')) throw new DensePoseError('BAD_CONFIG', `"${k}" must be a path, got ${JSON.stringify(raw[k])}`, { where });
  }
  if (raw.valImages !== undefined) checkNumber(raw.valImages, 'valImages', isInt(1), 'an integer ≥ 1', where);
  if (raw.evalPeriod !== undefined) checkNumber(raw.evalPeriod, 'evalPeriod', isInt(0), 'an integer ≥ 0', where);
  if (raw.logPeriod !== undefined) checkNumber(raw.logPeriod, 'logPeriod', isInt(1), 'an integer ≥ 1', where);
  if (raw.seed !== undefined) checkNumber(raw.seed, 'seed', isInt(0), 'an integer ≥ 0', where);
  const data = checkData(raw.data, baseDir, where);
  const model = resolveModel(raw.model, baseDir, where);
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

/** Read and resolve a training config file (JSON): errors name the file, and a syntax error its line and column. */
export function loadTrainConfig(path: string): TrainConfig {
  const raw = readJsonFile(path, 'training config');
  return resolveTrainConfig(raw as Partial<TrainConfig>, dirname(resolve(path)), path);
}
