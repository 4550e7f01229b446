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
import { findZooEntry, looksLikeModelName, shippedZooIndex } from '../zoo/index.ts';

/** What the browser entry reads pixels from; `PixelImage` is RGB bytes `[height, width, 3]`. */
export type BrowserImageInput = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap | ImageData | PixelImage;

/** An exported model already in memory. */
export interface ModelDirectoryContents {
  spec: PipelineSpec;
  graphs: Record<StageName, Uint8Array>;
}

/** Load-time options of the browser {@link createDensePose}. */
export interface CreateBrowserDensePoseOptions {
  /**
   * URL of the model directory (relative URLs resolve against the page), its contents, or a zoo model name
   * (`'R_50_FPN_s1x'`): the directory `<baseUrl><name>/`, as `densepose models export NAME --out DIR/NAME` writes it.
   */
  model: string | URL | ModelDirectoryContents;
  /** Where zoo models' exported directories are served (self-hosted copies). @default 'models/' (relative to the page) */
  baseUrl?: string | URL;
  /** Cache API cache that keeps zoo models' files across visits; false: plain fetch. @default 'densepose-ts' */
  cacheName?: string | false;
  /** The ONNX Runtime module. @default await import('onnxruntime-web') */
  ort?: OrtModuleLike;
  /** Providers in order of preference. @default ['webgpu', 'wasm'] where `navigator.gpu` gives an adapter, else ['wasm'] */
  executionProviders?: readonly string[];
  /** Default for {@link BrowserEstimateOptions.scoreThreshold}. @default the config's for detectron2 models (the zoo: 0.05), else 0.5 */
  scoreThreshold?: number;
  /** Short side the images are resized to. @default the model's minSizeTest */
  minSize?: number;
  /** Long-side limit. @default the model's maxSizeTest */
  maxSize?: number;
}

/** Per-call options of {@link BrowserDensePose.estimate}. */
export interface BrowserEstimateOptions {
  /** @default the load-time scoreThreshold */
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

/** The Cache API's cache `name` where the page has one (secure contexts), else undefined. */
async function openCache(name: string | false): Promise<Cache | undefined> {
  if (name === false || typeof globalThis.caches === 'undefined') return undefined;
  return globalThis.caches.open(name).catch(() => undefined);
}

async function fetchModel(base: string | URL, cache?: Cache): Promise<ModelDirectoryContents> {
  const root = new URL(String(base).endsWith('/') ? base : `${String(base)}/`, globalThis.location?.href);
  // A missing model is a 404, or (dev servers, single-page hosts) the site's HTML page answered for
  // any unknown path, which JSON.parse would report as "Unexpected token '<'": say which it is.
  const get = async (name: string): Promise<Response> => {
    const url = new URL(name, root).href;
    const hit = await cache?.match(url);
    if (hit) return hit;
    let r: Response;
    try {
      r = await fetch(url);
    } catch (e) {
      throw new DensePoseError('NOT_FOUND', `no exported model at ${root.href}: fetching ${name} failed (${(e as Error).message})`, { where: url, cause: e });
    }
    if (!r.ok) throw new DensePoseError('NOT_FOUND', `no exported model at ${root.href}: ${name} answered HTTP ${r.status}`, { where: url });
    if ((r.headers.get('content-type') ?? '').includes('text/html')) throw new DensePoseError('NOT_FOUND', `no exported model at ${root.href}: ${name} answered with an HTML page, not the model file`, { where: url });
    if (cache) await cache.put(url, r.clone());
    return r;
  };
  let spec: PipelineSpec;
  try {
    spec = (await (await get(MODEL_DIR_FILES.spec)).json()) as PipelineSpec;
  } catch (e) {
    if (e instanceof SyntaxError) throw new DensePoseError('BAD_FILE', `${MODEL_DIR_FILES.spec} of ${root.href} is not JSON (${e.message})`, { where: new URL(MODEL_DIR_FILES.spec, root).href, cause: e });
    throw e;
  }
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
  const source = options.model;
  const zoo = typeof source === 'string' && looksLikeModelName(source) ? findZooEntry(shippedZooIndex(), source) : undefined;
  const model = zoo
    ? await fetchModel(new URL(`${zoo.name}/`, new URL(String(options.baseUrl ?? 'models/'), globalThis.location?.href)), await openCache(options.cacheName ?? 'densepose-ts'))
    : typeof source === 'string' || source instanceof URL
      ? await fetchModel(source)
      : source;
  // detectron2's models get detectron2's test-time behaviour, as in Node
  const fromDetectron2 = model.spec.detectron2 !== undefined;
  const scoreThreshold = options.scoreThreshold ?? (fromDetectron2 ? model.spec.box.scoreThresh : 0.5);
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
      scoreThreshold: o.scoreThreshold ?? scoreThreshold,
      preprocess: fromDetectron2 ? 'detectron2' : 'float',
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
