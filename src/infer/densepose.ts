// The library entry point: `createDensePose(options)` → `{ estimate, dispose }`.
import { DensePoseError, unknownValue } from '../errors.ts';
import { type ModelConfig } from '../model/config.ts';
import { loadDensePoseRcnnConfig, type DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { type BackendName, initBackend } from '../runtime/backend.ts';
import type { ExecutionProvider, SessionOptions } from '../runtime/onnx/session.ts';
import { exportStages, type StageGraphs } from './export-stages.ts';
import { readImage, type RawImageInput } from './image-io.ts';
import { loadModel } from './model-file.ts';
import { DensePosePipeline, type PipelineOptions, type StageRunner } from './pipeline.ts';
import type { PreprocessMode } from './preprocess.ts';
import type { StepProfile } from './profile.ts';
import type { StageName } from './stage-names.ts';
import { pipelineSpec, type PipelineSpec } from './spec.ts';
import { createTfjsStageRunner } from './tfjs-runner.ts';
import type { DensePosePerson, StageTensor } from './types.ts';
import type { PullProgress } from '../zoo/download.ts';
import { resolveModelSource } from '../zoo/resolve.ts';

export const INFER_BACKENDS = ['onnx', 'tfjs'] as const;
export type InferBackend = (typeof INFER_BACKENDS)[number];

/** Load-time options of {@link createDensePose}. */
export interface CreateDensePoseOptions {
  /**
   * A model file (safetensors with the config JSON in its metadata under `config`), a model-zoo name
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

/**
 * Load a model and open its inference stages. With `backend: 'onnx'` the model is exported to three
 * ONNX graphs in memory (body+RPN, box head, DensePose head) and its tfjs weights are freed; when ONNX
 * Runtime cannot start, it falls back to tfjs and says why in `fallbackReason`.
 */
export async function createDensePose(options: CreateDensePoseOptions): Promise<DensePose> {
  validate(options);
  await initBackend(options.tfjsBackend ? { backend: options.tfjsBackend } : {});
  const owned = typeof options.model === 'string';
  const config = typeof options.config === 'string' ? loadDensePoseRcnnConfig(options.config) : options.config;
  const rcnn = typeof options.model === 'string' ? loadModel((await resolveModelSource(options.model, options.onProgress ? { onProgress: options.onProgress } : {})).path, config) : options.model;
  const spec = pipelineSpec(rcnn);
  let backend: InferBackend = options.backend ?? 'onnx';
  let runner: StageRunner | undefined;
  let executionProvider = 'tfjs';
  let fallbackReason: string | undefined;
  let graphs: StageGraphs | undefined;
  // Inference parks idle ORT threads (spinning false): the host steps between stages need the cores.
  const sessionOptions: SessionOptions = { spinning: false, ...options.ort, executionProvider: options.executionProvider ?? 'cpu', threads: options.threads ?? 0 };
  if (backend === 'onnx') {
    try {
      graphs = exportStages(rcnn);
      const { createNodeStageRunner } = await import('./node-runner.ts');
      const r = await createNodeStageRunner(graphs, sessionOptions);
      executionProvider = r.executionProvider;
      fallbackReason = r.fallbackReason;
      runner = r;
      if (owned) rcnn.model.dispose();
    } catch (e) {
      backend = 'tfjs';
      fallbackReason = `ONNX Runtime unavailable (${(e as Error).message.split('\n')[0]}); running on tfjs`;
    }
  }
  runner ??= createTfjsStageRunner(rcnn, { disposeModel: owned });
  // detectron2's models get detectron2's test-time behaviour: its score threshold and its uint8 resize.
  const fromDetectron2 = rcnn.config.detectron2 !== undefined;
  const loadTime = {
    minSize: options.minSize,
    maxSize: options.maxSize,
    scoreThreshold: options.scoreThreshold ?? (fromDetectron2 ? spec.box.scoreThresh : 0.5),
    preprocess: options.preprocess ?? (fromDetectron2 ? 'detectron2' : 'float'),
  };
  const prepare = {
    ...(loadTime.minSize !== undefined ? { minSize: loadTime.minSize } : {}),
    ...(loadTime.maxSize !== undefined ? { maxSize: loadTime.maxSize } : {}),
  };
  if (options.precision === 'int8-head' || options.precision === 'int8') {
    if (!graphs) throw new DensePoseError('UNSUPPORTED', `createDensePose: precision "${options.precision}" needs ONNX Runtime (${fallbackReason ?? 'not running'})`);
    const stages: StageName[] = options.precision === 'int8' ? ['body', 'densepose'] : ['densepose'];
    runner = await withInt8Stages(runner, graphs, stages, spec, options.calibrationImages!, { ...prepare, scoreThreshold: loadTime.scoreThreshold, preprocess: loadTime.preprocess }, sessionOptions);
  }
  const pipeline = new DensePosePipeline(spec, runner);
  const batchSize = options.batchSize ?? 4;
  let disposed = false;

  async function estimateMany(inputs: readonly ImageInput[], o: EstimateOptions): Promise<DensePosePerson[][]> {
    if (disposed) throw new DensePoseError('BAD_INPUT', 'estimate: this DensePose was disposed');
    const out: DensePosePerson[][] = [];
    for (let i = 0; i < inputs.length; i += batchSize) {
      const images = await Promise.all(inputs.slice(i, i + batchSize).map((x) => readImage(x)));
      out.push(
        ...(await pipeline.run(images, {
          ...prepare,
          scoreThreshold: o.scoreThreshold ?? loadTime.scoreThreshold,
          preprocess: loadTime.preprocess,
          ...(o.maxPeople !== undefined ? { maxPeople: o.maxPeople } : {}),
          ...(o.profile ? { profile: o.profile } : {}),
        })),
      );
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
    spec,
    estimate,
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
async function withInt8Stages(
  runner: StageRunner,
  graphs: StageGraphs,
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
    for (const s of stages) quantized[s] = await quantizeStageGraph(s, graphs[s], feeds.get(s)!, s === 'body' ? ['Conv', 'Add'] : ['Conv'], sessionOptions);
    const { createNodeStageRunner } = await import('./node-runner.ts');
    return await createNodeStageRunner(quantized, sessionOptions);
  } finally {
    await runner.dispose();
  }
}
