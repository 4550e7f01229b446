// The browser demo: the same staged pipeline as `createDensePose`, with the stages on onnxruntime-web.
import * as ort from 'onnxruntime-web';
import { DensePosePipeline } from '../../src/infer/pipeline.ts';
import { createOrtStageRunner, type OrtModuleLike } from '../../src/infer/ort-runner.ts';
import type { PipelineSpec } from '../../src/infer/spec.ts';
import type { DensePosePerson } from '../../src/infer/types.ts';
import { WEB_MODEL_FILES } from '../../src/infer/web-model-files.ts';
import { chooseWebExecutionProviders, type GpuLike, WEB_EP_REQUESTS, type WebEpRequest } from '../../src/infer/web-ep.ts';
import { drawParts } from '../../src/vis/draw-parts.ts';
import { drawUvIsolines } from '../../src/vis/isolines.ts';
import type { RgbImage } from '../../src/vis/types.ts';

/** What the page exposes for tests and the curious (`window.densepose`). */
export interface PageState {
  ready: boolean;
  executionProvider: string;
  /** Why that provider (adapter found or not, software adapter, requested). */
  executionProviderReason: string;
  /** Runs finished so far. */
  runs: number;
  people: DensePosePerson[];
  /** The last input, RGB `[h,w,3]`, to compare the drawn canvas against. */
  input: RgbImage | undefined;
  error: string | undefined;
  run(image: RgbImage): Promise<DensePosePerson[]>;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('canvas');
const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
const status = $<HTMLDivElement>('status');
const params = new URLSearchParams(location.search);
const modelBase = params.get('model') ?? './model/';
if (params.has('score')) $<HTMLInputElement>('score').value = params.get('score')!;

const state: PageState = { ready: false, executionProvider: '', executionProviderReason: '', runs: 0, people: [], input: undefined, error: undefined, run: async () => [] };
(window as unknown as { densepose: PageState }).densepose = state;

function say(text: string): void {
  status.textContent = text;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function load(): Promise<DensePosePipeline> {
  // Threads need cross-origin isolation (SharedArrayBuffer); otherwise one thread.
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const spec = (await (await fetch(new URL(WEB_MODEL_FILES.spec, new URL(modelBase, location.href)))).json()) as PipelineSpec;
  const graphs = {
    body: await fetchBytes(new URL(WEB_MODEL_FILES.body, new URL(modelBase, location.href)).href),
    boxHead: await fetchBytes(new URL(WEB_MODEL_FILES.boxHead, new URL(modelBase, location.href)).href),
    densepose: await fetchBytes(new URL(WEB_MODEL_FILES.densepose, new URL(modelBase, location.href)).href),
  };
  const request = (WEB_EP_REQUESTS as readonly string[]).includes(params.get('ep') ?? '') ? (params.get('ep') as WebEpRequest) : 'auto';
  const choice = await chooseWebExecutionProviders((navigator as unknown as { gpu?: GpuLike }).gpu, request);
  const wantGpu = choice.providers[0] === 'webgpu';
  state.executionProviderReason = choice.reason;
  let runner;
  try {
    runner = await createOrtStageRunner(ort as unknown as OrtModuleLike, graphs, { executionProviders: choice.providers });
    state.executionProvider = choice.providers[0]!;
  } catch (e) {
    if (!wantGpu) throw e;
    runner = await createOrtStageRunner(ort as unknown as OrtModuleLike, graphs, { executionProviders: ['wasm'] });
    state.executionProvider = 'wasm';
    state.executionProviderReason = `webgpu failed to open (${(e as Error).message.split('\n')[0]}); wasm`;
  }
  return new DensePosePipeline(spec, runner);
}

function drawBoxes(people: readonly DensePosePerson[]): void {
  ctx.lineWidth = Math.max(2, Math.round(canvas.width / 320));
  ctx.font = `${Math.max(12, Math.round(canvas.width / 50))}px system-ui, sans-serif`;
  for (const p of people) {
    const [x, y, w, h] = p.box;
    ctx.strokeStyle = '#00ff66';
    ctx.strokeRect(x, y, w, h);
    const label = p.score.toFixed(2);
    ctx.fillStyle = '#00ff66';
    ctx.fillRect(x, Math.max(0, y - 18), ctx.measureText(label).width + 8, 18);
    ctx.fillStyle = '#000';
    ctx.fillText(label, x + 4, Math.max(14, y - 4));
  }
}

function render(image: RgbImage, people: readonly DensePosePerson[]): void {
  let out = image;
  if ($<HTMLInputElement>('parts').checked) out = drawParts(out, people);
  if ($<HTMLInputElement>('uv').checked) out = drawUvIsolines(out, people);
  const rgba = new ImageData(out.width, out.height);
  for (let i = 0, n = out.width * out.height; i < n; i++) {
    rgba.data[4 * i] = out.data[3 * i]!;
    rgba.data[4 * i + 1] = out.data[3 * i + 1]!;
    rgba.data[4 * i + 2] = out.data[3 * i + 2]!;
    rgba.data[4 * i + 3] = 255;
  }
  canvas.width = out.width;
  canvas.height = out.height;
  ctx.putImageData(rgba, 0, 0);
  if ($<HTMLInputElement>('boxes').checked) drawBoxes(people);
}

/** RGB pixels of a drawable, at most 1024 px on the long side. */
function pixelsOf(source: CanvasImageSource, width: number, height: number): RgbImage {
  const s = Math.min(1, 1024 / Math.max(width, height));
  const w = Math.max(1, Math.round(width * s));
  const h = Math.max(1, Math.round(height * s));
  const off = new OffscreenCanvas(w, h);
  const octx = off.getContext('2d')!;
  octx.drawImage(source, 0, 0, w, h);
  const rgba = octx.getImageData(0, 0, w, h).data;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    data[3 * i] = rgba[4 * i]!;
    data[3 * i + 1] = rgba[4 * i + 1]!;
    data[3 * i + 2] = rgba[4 * i + 2]!;
  }
  return { width: w, height: h, data };
}

async function main(): Promise<void> {
  const pipeline = await load();
  let busy = false;
  state.run = async (image) => {
    busy = true;
    try {
      const t0 = performance.now();
      const scoreThreshold = Number($<HTMLInputElement>('score').value);
      const [people] = await pipeline.run([image], { scoreThreshold: Number.isFinite(scoreThreshold) ? scoreThreshold : 0.5 });
      state.input = image;
      state.people = people!;
      render(image, people!);
      state.runs++;
      say(`${people!.length} ${people!.length === 1 ? 'person' : 'people'} found in ${(performance.now() - t0).toFixed(0)} ms (${state.executionProvider})`);
      return people!;
    } finally {
      busy = false;
    }
  };
  state.ready = true;
  say(`model "${pipeline.spec.name}" ready on ${state.executionProvider}: pick an image or start the webcam`);

  $<HTMLInputElement>('file').addEventListener('change', async (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    await state.run(pixelsOf(bitmap, bitmap.width, bitmap.height)).catch(fail);
  });

  const video = $<HTMLVideoElement>('video');
  let streaming = false;
  $<HTMLButtonElement>('webcam').addEventListener('click', async () => {
    if (streaming) {
      streaming = false;
      (video.srcObject as MediaStream | null)?.getTracks().forEach((t) => t.stop());
      return;
    }
    try {
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      await video.play();
      streaming = true;
      const loop = async () => {
        if (!streaming) return;
        if (!busy && video.videoWidth > 0) await state.run(pixelsOf(video, video.videoWidth, video.videoHeight)).catch(fail);
        requestAnimationFrame(() => void loop());
      };
      void loop();
    } catch (e) {
      fail(e);
    }
  });
}

function fail(e: unknown): void {
  state.error = e instanceof Error ? e.message : String(e);
  say(`error: ${state.error}`);
}

main().catch(fail);
