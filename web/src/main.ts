// The browser demo: the package's browser entry (`densepose-ts/browser`), stages on onnxruntime-web.
import * as ort from 'onnxruntime-web';
import { createDensePose, type BrowserDensePose } from '../../src/infer/browser.ts';
import type { OrtModuleLike } from '../../src/infer/ort-runner.ts';
import type { DensePosePerson } from '../../src/infer/types.ts';
import { drawParts } from '../../src/vis/draw-parts.ts';
import { drawUvIsolines } from '../../src/vis/isolines.ts';
import type { RgbImage } from '../../src/vis/types.ts';

/** What the page exposes for tests and the curious (`window.densepose`). */
export interface PageState {
  ready: boolean;
  executionProvider: string;
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

const state: PageState = { ready: false, executionProvider: '', runs: 0, people: [], input: undefined, error: undefined, run: async () => [] };
(window as unknown as { densepose: PageState }).densepose = state;

function say(text: string): void {
  status.textContent = text;
}

async function load(): Promise<BrowserDensePose> {
  // Threads need cross-origin isolation (SharedArrayBuffer); otherwise one thread.
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const dp = await createDensePose({
    model: new URL(modelBase, location.href),
    ort: ort as unknown as OrtModuleLike,
    ...(params.get('ep') === 'wasm' ? { executionProviders: ['wasm'] } : params.get('ep') === 'webgpu' ? { executionProviders: ['webgpu', 'wasm'] } : {}),
  });
  state.executionProvider = dp.executionProviders[0]!;
  return dp;
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
  const dp = await load();
  let busy = false;
  state.run = async (image) => {
    busy = true;
    try {
      const t0 = performance.now();
      const scoreThreshold = Number($<HTMLInputElement>('score').value);
      const people = await dp.estimate(image, { scoreThreshold: Number.isFinite(scoreThreshold) ? scoreThreshold : 0.5 });
      state.input = image;
      state.people = people;
      render(image, people);
      state.runs++;
      say(`${people.length} ${people.length === 1 ? 'person' : 'people'} found in ${(performance.now() - t0).toFixed(0)} ms (${state.executionProvider})`);
      return people;
    } finally {
      busy = false;
    }
  };
  state.ready = true;
  say(`model "${dp.spec.name}" ready on ${state.executionProvider}: pick an image or start the webcam`);

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
