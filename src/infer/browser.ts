// `createDensePose` for browsers: onnxruntime-web runs the stages of an exported model directory
// (`spec.json` + the stage graphs, as `densepose export` / `npm run web:model` write it), the same
// TypeScript pipeline as in Node does the rest. No Node-only imports.
import { DensePoseError } from '../errors.ts';
import { createOrtStageRunner, type OrtModuleLike } from './ort-runner.ts';
import { DensePosePipeline } from './pipeline.ts';
import type { PixelImage } from './preprocess.ts';
import type { PipelineSpec } from './spec.ts';
import type { StageName } from './stage-names.ts';
import type { DensePosePerson } from './types.ts';
import { MODEL_DIR_FILES } from './model-dir-files.ts';

/** What the browser entry reads pixels from; `PixelImage` is RGB bytes `[height, width, 3]`. */
export type BrowserImageInput = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap | ImageData | PixelImage;

/** An exported model already in memory. */
export interface ModelDirectoryContents {
  spec: PipelineSpec;
  graphs: Record<StageName, Uint8Array>;
}

/** Load-time options of the browser {@link createDensePose}. */
export interface CreateBrowserDensePoseOptions {
  /** URL of the model directory (relative URLs resolve against the page), or its contents. */
  model: string | URL | ModelDirectoryContents;
  /** The ONNX Runtime module. @default await import('onnxruntime-web') */
  ort?: OrtModuleLike;
  /** Providers in order of preference. @default ['webgpu', 'wasm'] where `navigator.gpu` gives an adapter, else ['wasm'] */
  executionProviders?: readonly string[];
  /** Default for {@link BrowserEstimateOptions.scoreThreshold}. @default the model's (0.5; detectron2 models: their config's) */
  scoreThreshold?: number;
  /** Short side the images are resized to. @default the model's minSizeTest */
  minSize?: number;
  /** Long-side limit. @default the model's maxSizeTest */
  maxSize?: number;
}

/** Per-call options of {@link BrowserDensePose.estimate}. */
export interface BrowserEstimateOptions {
  /** @default the load-time scoreThreshold (0.5) */
  scoreThreshold?: number;
  /** Most people per image. @default the model's detectionsPerImage */
  maxPeople?: number;
}

export interface BrowserDensePose {
  readonly spec: PipelineSpec;
  /** The providers the sessions were created with (after a WebGPU → wasm fallback, if any). */
  readonly executionProviders: readonly string[];
  estimate(image: BrowserImageInput, options?: BrowserEstimateOptions): Promise<DensePosePerson[]>;
  estimate(images: readonly BrowserImageInput[], options?: BrowserEstimateOptions): Promise<DensePosePerson[][]>;
  dispose(): Promise<void>;
}

async function fetchModel(base: string | URL): Promise<ModelDirectoryContents> {
  const root = new URL(String(base).endsWith('/') ? base : `${String(base)}/`, globalThis.location?.href);
  const get = async (name: string): Promise<Response> => {
    const r = await fetch(new URL(name, root));
    if (!r.ok) throw new DensePoseError('BAD_FILE', `HTTP ${r.status} for ${name}`, { where: new URL(name, root).href });
    return r;
  };
  const spec = (await (await get(MODEL_DIR_FILES.spec)).json()) as PipelineSpec;
  const bytes = async (name: string) => new Uint8Array(await (await get(name)).arrayBuffer());
  const [body, boxHead, densepose] = await Promise.all([bytes(MODEL_DIR_FILES.body), bytes(MODEL_DIR_FILES.boxHead), bytes(MODEL_DIR_FILES.densepose)]);
  return { spec, graphs: { body, boxHead, densepose } };
}

async function hasWebGpu(): Promise<boolean> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return false;
  return (await gpu.requestAdapter().catch(() => null)) !== null;
}

/** RGB bytes of any browser image source at its own size. */
export function browserPixels(source: BrowserImageInput): PixelImage {
  if ('data' in source && !(typeof ImageData !== 'undefined' && source instanceof ImageData)) return source;
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) return rgbOf(source.data, source.width, source.height);
  const el = source as Exclude<BrowserImageInput, ImageData | PixelImage>;
  const [width, height] =
    typeof HTMLVideoElement !== 'undefined' && el instanceof HTMLVideoElement
      ? [el.videoWidth, el.videoHeight]
      : typeof HTMLImageElement !== 'undefined' && el instanceof HTMLImageElement
        ? [el.naturalWidth, el.naturalHeight]
        : [(el as { width: number }).width, (el as { height: number }).height];
  if (!(width > 0 && height > 0)) throw new DensePoseError('BAD_INPUT', `estimate: the image has no pixels yet (${width}×${height}); wait for it to load`);
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (!ctx) throw new DensePoseError('UNSUPPORTED', 'estimate: no 2D canvas context to read pixels with');
  ctx.drawImage(el, 0, 0, width, height);
  return rgbOf(ctx.getImageData(0, 0, width, height).data, width, height);
}

function rgbOf(rgba: Uint8ClampedArray, width: number, height: number): PixelImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, n = width * height; i < n; i++) {
    data[3 * i] = rgba[4 * i]!;
    data[3 * i + 1] = rgba[4 * i + 1]!;
    data[3 * i + 2] = rgba[4 * i + 2]!;
  }
  return { width, height, data };
}

/**
 * Open an exported model in the browser. WebGPU is tried first where the browser has an adapter and
 * falls back to wasm when its sessions cannot be created.
 */
export async function createDensePose(options: CreateBrowserDensePoseOptions): Promise<BrowserDensePose> {
  const t = options.scoreThreshold;
  if (t !== undefined && !(t >= 0 && t <= 1)) throw new DensePoseError('BAD_OPTION', `createDensePose: scoreThreshold must be in [0, 1], got ${t}`);
  const ort = options.ort ?? ((await import('onnxruntime-web')) as unknown as OrtModuleLike);
  const model = typeof options.model === 'string' || options.model instanceof URL ? await fetchModel(options.model) : options.model;
  const wanted = options.executionProviders ?? ((await hasWebGpu()) ? ['webgpu', 'wasm'] : ['wasm']);
  let providers: readonly string[] = wanted;
  let runner;
  try {
    runner = await createOrtStageRunner(ort, model.graphs, { executionProviders: providers });
  } catch (e) {
    if (!wanted.includes('webgpu') || wanted.length === 1) throw e;
    providers = wanted.filter((p) => p !== 'webgpu');
    runner = await createOrtStageRunner(ort, model.graphs, { executionProviders: providers });
  }
  const pipeline = new DensePosePipeline(model.spec, runner);
  let disposed = false;
  const run = async (inputs: readonly BrowserImageInput[], o: BrowserEstimateOptions) => {
    if (disposed) throw new DensePoseError('BAD_INPUT', 'estimate: this DensePose was disposed');
    return pipeline.run(inputs.map(browserPixels), {
      ...(options.minSize !== undefined ? { minSize: options.minSize } : {}),
      ...(options.maxSize !== undefined ? { maxSize: options.maxSize } : {}),
      scoreThreshold: o.scoreThreshold ?? options.scoreThreshold ?? model.spec.defaultScoreThreshold ?? 0.5,
      preprocess: model.spec.input.preprocess ?? 'float',
      ...(o.maxPeople !== undefined ? { maxPeople: o.maxPeople } : {}),
    });
  };
  const estimate = (async (input: BrowserImageInput | readonly BrowserImageInput[], o: BrowserEstimateOptions = {}) =>
    Array.isArray(input) ? run(input as readonly BrowserImageInput[], o) : (await run([input as BrowserImageInput], o))[0]!) as BrowserDensePose['estimate'];
  return {
    spec: model.spec,
    executionProviders: providers,
    estimate,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await pipeline.dispose();
    },
  };
}
