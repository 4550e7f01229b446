// The library entry point: `createDensePose(options)` → `{ estimate, dispose }`. With ONNX Runtime
// (the default) and a model directory, or a model file whose export is cached, no tfjs module is
// loaded: tfjs comes in (dynamic imports) only to export a model file once, or for `backend: 'tfjs'`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { DensePoseError, unknownValue } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import type { BackendName } from '../runtime/backend.ts';
import type { ExecutionProvider, SessionOptions } from '../runtime/onnx/session.ts';
import { readImage, type RawImageInput } from './image-io.ts';
import { cacheDir } from './cache-dir.ts';
import { cachedModelDir } from './model-cache.ts';
import { isModelDir, openModelDir } from './model-dir.ts';
import { type DensePoseCharts, DensePosePipeline, type DetectedBatch, type PipelineOptions, type ScoredBoxes, type StageRunner } from './pipeline.ts';
import type { PreprocessMode } from './preprocess.ts';
import type { StepProfile } from './profile.ts';
import type { StageName } from './stage-names.ts';
import { pipelineSpec, type PipelineSpec, testTimeDefaults } from './spec.ts';
import type { DensePosePerson, StageTensor } from './types.ts';
import type { PullProgress } from '../zoo/download.ts';

export const INFER_BACKENDS = ['onnx', 'tfjs'] as const;
export type InferBackend = (typeof INFER_BACKENDS)[number];

/** Load-time options of {@link createDensePose}. */
export interface CreateDensePoseOptions {
  /**
   * A model directory (`densepose export`), a model file (safetensors with the config JSON in its
   * metadata under `config`; exported once to the cache, see `cache`), a model-zoo name
   * (`'R_50_FPN_s1x'`: downloaded, verified and converted once into the cache; see `densepose models list`),
   * or a built model (not disposed by us).
   */
  model: string | DensePoseRcnn;
  /** Progress of a zoo model's first download and conversion. */
  onProgress?: (p: PullProgress) => void;
  /** Config overriding the one in the model file: a parsed config or a JSON file path. @default the file's metadata */
  config?: ModelConfig | string;
  /** Where the stages run: ONNX Runtime, or the modules on tfjs (fallback when ORT cannot start). @default 'onnx' */
  backend?: InferBackend;
  /** ONNX Runtime execution provider (falls back to CPU when unavailable). @default 'cpu' */
  executionProvider?: ExecutionProvider;
  /** tfjs backend for `backend: 'tfjs'` and for building the model. @default process.env.DENSEPOSE_BACKEND ?? 'wasm' */
  tfjsBackend?: BackendName;
  /** ORT intra-op threads; 0 = one per core. @default 0 */
  threads?: number;
  /**
   * Default for {@link EstimateOptions.scoreThreshold}.
   * @default the config's `roiHeads.scoreThreshTest` for detectron2 models (configs naming one in `detectron2`: every zoo model), else 0.5
   */
  scoreThreshold?: number;
  /** Image resizing (see PrepareOptions.preprocess). @default 'detectron2' for detectron2 models, else 'float' */
  preprocess?: PreprocessMode;
  /** Short side the images are resized to. @default the config's minSizeTest (800) */
  minSize?: number;
  /** Long-side limit. @default the config's maxSizeTest (1333) */
  maxSize?: number;
  /** Images per body-stage run. @default 4 */
  batchSize?: number;
  /**
   * Where a model file's ONNX export, and ONNX Runtime's optimized form of every stage graph (so later
   * loads skip parsing and optimizing; CPU provider), are cached: a cache root, or `false` to export in
   * memory at every load and optimize at every load. @default cacheDir() ($DENSEPOSE_CACHE, else $XDG_CACHE_HOME/densepose-ts, else ~/.cache/densepose-ts)
   */
  cache?: string | false;
  /**
   * Arithmetic of the stages (opt-in int8, ONNX backend only, calibrated on `calibrationImages`; effect on the
   * outputs measured in the README's Speed section): `'int8-head'` runs the DensePose head's convolutions in
   * int8 (QDQ; about 2× faster on CPUs with VNNI), `'int8'` the backbone, FPN and RPN convolutions too.
   * @default 'float32'
   */
  precision?: Precision;
  /** Images with people for `precision: 'int8-head'` calibration (activation ranges of the head). */
  calibrationImages?: readonly ImageInput[];
  /**
   * ONNX Runtime session tuning (see {@link SessionOptions}). Idle threads do not spin by default here: the
   * host steps between stages share the cores with them (1.48× end to end, `bench infer --profile --compare spinning`).
   * @default { spinning: false, graphOptimization: 'all' }
   */
  ort?: Pick<SessionOptions, 'spinning' | 'graphOptimization'>;
}

export const PRECISIONS = ['float32', 'int8-head', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Per-call options of {@link DensePose.estimate}. */
export interface EstimateOptions {
  /** Keep people scoring above this. @default the load-time scoreThreshold */
  scoreThreshold?: number;
  /** Most people per image. @default the config's detectionsPerImage */
  maxPeople?: number;
  /** Receives the wall time of every pipeline step (`bench infer --profile`). @default none */
  profile?: StepProfile;
  /** Short side for this call (test-time scales). @default the load-time minSize */
  minSize?: number;
  /** Long-side limit for this call. @default the load-time maxSize */
  maxSize?: number;
}

/** Per-call options of {@link DensePose.densepose} and {@link DensePose.densePoseCharts}. */
export interface HeadOptions {
  /** Boxes per DensePose head run (bounds the memory of its outputs). @default 128 */
  headBatch?: number;
}

/** An image: a file path, encoded bytes (jpeg, png, …), or raw pixels `[height, width, channels]` (1, 3 or 4 channels). */
export type ImageInput = string | Buffer | RawImageInput;

export interface DensePose {
  /** Backend the stages run on (after any fallback). */
  readonly backend: InferBackend;
  /** ORT provider in use (`'tfjs'` on the tfjs backend). */
  readonly executionProvider: string;
  /** Why the requested backend/provider was replaced, if it was. */
  readonly fallbackReason: string | undefined;
  readonly spec: PipelineSpec;
  /** People in one image; boxes in its pixels. */
  estimate(image: ImageInput, options?: EstimateOptions): Promise<DensePosePerson[]>;
  /** People in each image (same order). */
  estimate(images: readonly ImageInput[], options?: EstimateOptions): Promise<DensePosePerson[][]>;
  /**
   * The detector alone on one batch (at most `batchSize` images): per image the detections (boxes in
   * its pixels) and the feature maps {@link densepose} pools from. `estimate` = `detect` + `densepose`
   * on the person boxes.
   */
  detect(images: readonly ImageInput[], options?: EstimateOptions): Promise<DetectedBatch>;
  /** The DensePose head on `boxes[n]` (`[K,4]` xyxy in image n's pixels, with scores) of a detected batch. */
  densepose(detected: DetectedBatch, boxes: readonly ScoredBoxes[], options?: HeadOptions): Promise<DensePosePerson[][]>;
  /**
   * The DensePose head's raw outputs on `boxes` (as {@link densepose}, before they are resampled to the
   * boxes), one entry per head run: what test-time augmentation averages across views.
   */
  densePoseCharts(detected: DetectedBatch, boxes: readonly ScoredBoxes[], options?: HeadOptions): Promise<DensePoseCharts[]>;
  dispose(): Promise<void>;
}

function validate(o: CreateDensePoseOptions): void {
  if (typeof o.model !== 'string' && (typeof o.model !== 'object' || o.model === null || !('densepose' in o.model))) {
    throw new DensePoseError('BAD_OPTION', 'createDensePose: "model" must be a model file path or a built DensePoseRcnn');
  }
  if (o.backend !== undefined && !(INFER_BACKENDS as readonly string[]).includes(o.backend)) throw unknownValue('inference backend', o.backend, INFER_BACKENDS);
  const t = o.scoreThreshold;
  if (t !== undefined && !(t >= 0 && t <= 1)) throw new DensePoseError('BAD_OPTION', `createDensePose: scoreThreshold must be in [0, 1], got ${t}`);
  if (o.precision !== undefined && !(PRECISIONS as readonly string[]).includes(o.precision)) throw unknownValue('precision', o.precision, PRECISIONS);
  const int8 = o.precision === 'int8-head' || o.precision === 'int8';
  if (int8 && o.backend === 'tfjs') throw new DensePoseError('BAD_OPTION', `createDensePose: precision "${o.precision}" needs backend "onnx"`);
  if (int8 && !(o.calibrationImages && o.calibrationImages.length > 0)) {
    throw new DensePoseError('BAD_OPTION', `createDensePose: precision "${o.precision}" needs calibrationImages (images with people, to calibrate the activation ranges)`);
  }
  const b = o.batchSize;
  if (b !== undefined && !(Number.isInteger(b) && b > 0)) throw new DensePoseError('BAD_OPTION', `createDensePose: batchSize must be a positive integer, got ${b}`);
}

/** Stage graphs as ONNX bytes (exported in memory) or `.onnx` paths (a model directory). */
type StageGraphSources = Record<StageName, Uint8Array | string>;

/** Where the model comes from, resolved: a model directory for ONNX Runtime, or a built model for tfjs. */
type ModelSource = { kind: 'dir'; dir: string; file: string | undefined } | { kind: 'rcnn'; rcnn: DensePoseRcnn; owned: boolean };

/** The config of the `config` option (a parsed config or a JSON file). */
async function configOption(config: ModelConfig | string | undefined): Promise<ModelConfig | undefined> {
  if (typeof config !== 'string') return config;
  const { loadDensePoseRcnnConfig } = await import('../model/densepose-rcnn.ts');
  return loadDensePoseRcnnConfig(config);
}

/** Build the model of a model file on tfjs (the tfjs backend and the fallback). */
async function buildFromFile(file: string, options: CreateDensePoseOptions): Promise<DensePoseRcnn> {
  const { initBackend } = await import('../runtime/backend.ts');
  await initBackend(options.tfjsBackend ? { backend: options.tfjsBackend } : {});
  const { loadModel } = await import('./model-file.ts');
  return loadModel(file, await configOption(options.config));
}

/**
 * The one place a `model` option becomes something to run: a model directory as it is; a model file
 * through the export cache (ONNX) or built on tfjs; a built model as given.
 */
async function resolveModel(options: CreateDensePoseOptions, backend: InferBackend): Promise<ModelSource> {
  let model = options.model;
  if (typeof model !== 'string') return { kind: 'rcnn', rcnn: model, owned: false };
  if (!existsSync(model)) {
    // a model-zoo name: pulled and converted into the cache on first use (the zoo loads tfjs, so only then)
    const { resolveModelSource } = await import('../zoo/resolve.ts');
    model = (await resolveModelSource(model, options.onProgress ? { onProgress: options.onProgress } : {})).path;
    if (!existsSync(model)) throw new DensePoseError('NOT_FOUND', 'model not found (expected a model directory, a .safetensors model file or a zoo model name)', { where: model });
  }
  if (statSync(model).isDirectory()) {
    if (!isModelDir(model)) throw new DensePoseError('BAD_FILE', 'is a folder but not a model directory (it has no spec.json; "densepose export" writes one)', { where: model });
    if (backend === 'tfjs') throw new DensePoseError('BAD_OPTION', 'backend "tfjs" needs the model file (.safetensors); a model directory holds ONNX graphs only', { where: model });
    if (options.config !== undefined) throw new DensePoseError('BAD_OPTION', '"config" cannot override a model directory (its stages are exported already); pass the model file', { where: model });
    return { kind: 'dir', dir: model, file: undefined };
  }
  if (backend === 'onnx') {
    if (options.cache === false) {
      const rcnn = await buildFromFile(model, options);
      return { kind: 'rcnn', rcnn, owned: true };
    }
    const config = await configOption(options.config);
    const { dir } = await cachedModelDir(model, { ...(config ? { config } : {}), ...(typeof options.cache === 'string' ? { cacheDir: options.cache } : {}) });
    return { kind: 'dir', dir, file: model };
  }
  return { kind: 'rcnn', rcnn: await buildFromFile(model, options), owned: true };
}

/**
 * Load a model and open its inference stages. With `backend: 'onnx'` (default) the stages run on ONNX
 * Runtime from a model directory (a model file is exported to one once and cached); when ONNX Runtime
 * cannot start, a model file or built model falls back to tfjs and says why in `fallbackReason`.
 */
export async function createDensePose(options: CreateDensePoseOptions): Promise<DensePose> {
  validate(options);
  let backend: InferBackend = options.backend ?? 'onnx';
  let source = await resolveModel(options, backend);
  let runner: StageRunner | undefined;
  let spec: PipelineSpec | undefined;
  let executionProvider = 'tfjs';
  let fallbackReason: string | undefined;
  let graphs: StageGraphSources | undefined;
  // Inference parks idle ORT threads (spinning false): the host steps between stages need the cores.
  const sessionOptions: SessionOptions = { spinning: false, ...options.ort, executionProvider: options.executionProvider ?? 'cpu', threads: options.threads ?? 0 };
  if (backend === 'onnx') {
    try {
      const { createNodeStageRunner } = await import('./node-runner.ts');
      if (source.kind === 'dir') {
        const opened = openModelDir(source.dir);
        spec = opened.spec;
        graphs = opened.graphPaths;
      } else {
        const { exportStages } = await import('./export-stages.ts');
        spec = pipelineSpec(source.rcnn);
        graphs = exportStages(source.rcnn);
      }
      const r = await createNodeStageRunner(graphs, sessionOptions, options.cache === false ? undefined : typeof options.cache === 'string' ? options.cache : cacheDir());
      executionProvider = r.executionProvider;
      fallbackReason = r.fallbackReason;
      runner = r;
      if (source.kind === 'rcnn' && source.owned) source.rcnn.model.dispose();
    } catch (e) {
      if (e instanceof DensePoseError && e.code !== 'UNSUPPORTED') throw e;
      if (source.kind === 'dir' && source.file === undefined) throw e;
      backend = 'tfjs';
      spec = undefined;
      fallbackReason = `ONNX Runtime unavailable (${(e as Error).message.split('\n')[0]}); running on tfjs`;
      if (source.kind === 'dir') source = { kind: 'rcnn', rcnn: await buildFromFile(source.file!, options), owned: true };
    }
  }
  if (!runner) {
    if (source.kind !== 'rcnn') throw new DensePoseError('UNSUPPORTED', 'no stage runner for a model directory without ONNX Runtime');
    const { createTfjsStageRunner } = await import('./tfjs-runner.ts');
    spec = pipelineSpec(source.rcnn);
    runner = createTfjsStageRunner(source.rcnn, { disposeModel: source.owned });
  }
  // the model's test-time defaults, chosen as in the browser (detectron2's models: its threshold and uint8 resize)
  const defaults = testTimeDefaults(spec!);
  const loadTime = {
    minSize: options.minSize,
    maxSize: options.maxSize,
    scoreThreshold: options.scoreThreshold ?? defaults.scoreThreshold,
    preprocess: options.preprocess ?? defaults.preprocess,
  };
  const callOptions = (o: EstimateOptions) => ({
    ...((o.minSize ?? loadTime.minSize) !== undefined ? { minSize: o.minSize ?? loadTime.minSize } : {}),
    ...((o.maxSize ?? loadTime.maxSize) !== undefined ? { maxSize: o.maxSize ?? loadTime.maxSize } : {}),
    scoreThreshold: o.scoreThreshold ?? loadTime.scoreThreshold,
    preprocess: loadTime.preprocess,
    ...(o.maxPeople !== undefined ? { maxPeople: o.maxPeople } : {}),
  });
  // Opt-in int8: calibration and quantisation run on ONNX Runtime over the float32 graphs (no tfjs).
  if (options.precision === 'int8-head' || options.precision === 'int8') {
    if (!graphs) throw new DensePoseError('UNSUPPORTED', `createDensePose: precision "${options.precision}" needs ONNX Runtime (${fallbackReason ?? 'not running'})`);
    const stages: StageName[] = options.precision === 'int8' ? ['body', 'densepose'] : ['densepose'];
    runner = await withInt8Stages(runner, graphs, stages, spec!, options.calibrationImages!, callOptions({}), sessionOptions);
  }
  const pipeline = new DensePosePipeline(spec!, runner);
  const batchSize = options.batchSize ?? 4;
  let disposed = false;

  const live = (what: string) => {
    if (disposed) throw new DensePoseError('BAD_INPUT', `${what}: this DensePose was disposed`);
  };

  async function estimateMany(inputs: readonly ImageInput[], o: EstimateOptions): Promise<DensePosePerson[][]> {
    live('estimate');
    const out: DensePosePerson[][] = [];
    for (let i = 0; i < inputs.length; i += batchSize) {
      const images = await Promise.all(inputs.slice(i, i + batchSize).map((x) => readImage(x)));
      out.push(...(await pipeline.run(images, { ...callOptions(o), ...(o.profile ? { profile: o.profile } : {}) })));
    }
    return out;
  }

  const estimate = (async (input: ImageInput | readonly ImageInput[], o: EstimateOptions = {}) => {
    if (Array.isArray(input)) return estimateMany(input as readonly ImageInput[], o);
    return (await estimateMany([input as ImageInput], o))[0]!;
  }) as DensePose['estimate'];

  return {
    backend,
    executionProvider,
    fallbackReason,
    spec: spec!,
    estimate,
    async detect(inputs, o = {}) {
      live('detect');
      if (inputs.length === 0 || inputs.length > batchSize) throw new DensePoseError('BAD_INPUT', `detect: takes 1 to batchSize (${batchSize}) images, got ${inputs.length}`);
      return pipeline.detect(await Promise.all(inputs.map((x) => readImage(x))), { ...callOptions(o), ...(o.profile ? { profile: o.profile } : {}) });
    },
    async densepose(detected, boxes, o = {}) {
      live('densepose');
      return pipeline.densepose(detected, boxes, o);
    },
    async densePoseCharts(detected, boxes, o = {}) {
      live('densePoseCharts');
      return pipeline.densePoseCharts(detected, boxes, o);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await pipeline.dispose();
    },
  };
}

/**
 * The float32 `runner` replaced by one whose `stages` are int8: the float32 pipeline runs on the calibration
 * images, the stages' inputs are recorded, each stage graph is quantised on them (body: Conv and Add inputs;
 * DensePose head: Conv inputs — its GroupNorm/ReLU chain has no Add).
 */
/** A stage graph as bytes: exported in memory, or a model directory's `.onnx` file. */
function graphBytes(graph: Uint8Array | string): Uint8Array {
  return typeof graph === 'string' ? new Uint8Array(readFileSync(graph)) : graph;
}

async function withInt8Stages(
  runner: StageRunner,
  graphs: StageGraphSources,
  stages: readonly StageName[],
  spec: PipelineSpec,
  calibration: readonly ImageInput[],
  options: PipelineOptions,
  sessionOptions: SessionOptions,
): Promise<StageRunner> {
  const feeds = new Map<StageName, Record<string, StageTensor>[]>(stages.map((s) => [s, []]));
  // Loaded on demand like node-runner: onnxruntime-node must not load when it is not used.
  const { quantizeStageGraph, recordingStageInputs } = await import('./quantize-stages.ts');
  try {
    const calibrate = new DensePosePipeline(spec, recordingStageInputs(runner, stages, (s, f) => feeds.get(s)!.push(f)));
    for (const x of calibration) await calibrate.run([await readImage(x)], options);
    const quantized = { ...graphs };
    for (const s of stages) quantized[s] = await quantizeStageGraph(s, graphBytes(graphs[s]), feeds.get(s)!, s === 'body' ? ['Conv', 'Add'] : ['Conv'], sessionOptions);
    const { createNodeStageRunner } = await import('./node-runner.ts');
    return await createNodeStageRunner(quantized, sessionOptions);
  } finally {
    await runner.dispose();
  }
}
