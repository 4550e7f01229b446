// The browser demo: the package's browser entry (`densepose-ts/browser`), stages on onnxruntime-web.
import * as ort from 'onnxruntime-web';
import { createDensePose, type BrowserDensePose } from '../../src/infer/browser.ts';
import type { OrtModuleLike } from '../../src/infer/ort-runner.ts';
import type { DensePosePerson } from '../../src/infer/types.ts';
import { PART_COLORS } from '../../src/vis/colormap.ts';
import { drawParts } from '../../src/vis/draw-parts.ts';
import { drawUvIsolines } from '../../src/vis/isolines.ts';
import { placeLabels } from '../../src/vis/label-placement.ts';
import { PART_NAMES } from '../../src/vis/part-names.ts';
import type { RgbImage } from '../../src/vis/types.ts';

/** What the page exposes for tests and the curious (`window.densepose`). */
export interface PageState {
  ready: boolean;
  executionProvider: string;
  /** What WebGPU gave: "no navigator.gpu", "no adapter", "adapter <vendor/architecture>", or "not asked (ep=wasm)". */
  gpu: string;
  /** Runs finished so far. */
  runs: number;
  /** Redraws without a new inference (a control changed). */
  redraws: number;
  /** People of the last run scoring at least the score control (what is drawn). */
  people: DensePosePerson[];
  /** Every person of the last run (the score control filters these without running again). */
  allPeople: DensePosePerson[];
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

const state: PageState = { ready: false, executionProvider: '', gpu: '', runs: 0, redraws: 0, people: [], allPeople: [], input: undefined, error: undefined, run: async () => [] };
(window as unknown as { densepose: PageState }).densepose = state;

function say(text: string): void {
  status.textContent = text;
}

/** What to tell someone whose page has no model next to it. */
const NO_MODEL_HINT = 'export one with "npm run web:model" (writes web/public/model/), then rebuild or reload, or point ?model=URL/ at an exported model folder';

/** Whether a WebGPU adapter exists; what was found goes to `state.gpu` (the library asks the same). */
async function probeWebGpu(): Promise<boolean> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }).gpu;
  if (!gpu) {
    state.gpu = 'no navigator.gpu';
    return false;
  }
  const adapter = await gpu.requestAdapter().catch(() => null);
  state.gpu = adapter ? `adapter ${adapter.info?.vendor ?? '?'}/${adapter.info?.architecture ?? '?'}` : 'no adapter';
  return adapter !== null;
}

async function load(): Promise<BrowserDensePose> {
  // Threads need cross-origin isolation (SharedArrayBuffer); otherwise one thread.
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const wasmOnly = params.get('ep') === 'wasm';
  if (wasmOnly) state.gpu = 'not asked (ep=wasm)';
  const gpu = !wasmOnly && (await probeWebGpu());
  let dp: BrowserDensePose;
  try {
    dp = await createDensePose({ model: new URL(modelBase, location.href), ort: ort as unknown as OrtModuleLike, executionProviders: gpu ? ['webgpu', 'wasm'] : ['wasm'] });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw code === 'NOT_FOUND' ? new Error(`${(e as Error).message}; ${NO_MODEL_HINT}`) : e;
  }
  state.executionProvider = dp.executionProviders[0]!;
  if (gpu && state.executionProvider !== 'webgpu') state.gpu += ' (webgpu sessions failed: fell back to wasm)';
  return dp;
}

function drawBoxes(people: readonly DensePosePerson[]): void {
  ctx.lineWidth = Math.max(2, Math.round(canvas.width / 320));
  const size = Math.max(12, Math.round(canvas.width / 50));
  ctx.font = `${size}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  ctx.strokeStyle = '#00ff66';
  for (const p of people) ctx.strokeRect(p.box[0], p.box[1], p.box[2], p.box[3]);
  // Tabs placed so none hides another where people stand close (the Node overlays do the same).
  const order = people.map((_, i) => i).sort((a, b) => people[b]!.score - people[a]!.score);
  const labels = order.map((i) => people[i]!.score.toFixed(2));
  const tabs = placeLabels(order.map((i) => people[i]!.box), labels.map((t) => [Math.ceil(ctx.measureText(t).width) + 8, size + 6] as [number, number]), canvas.width, canvas.height);
  tabs.forEach(([x, y, w, h], k) => {
    ctx.fillStyle = '#00ff66';
    ctx.fillRect(x, y, w, h);
    ctx.fillStyle = '#000';
    ctx.fillText(labels[k]!, x + 4, y + 3);
  });
}

/** The score control's value, 0.5 when it does not parse. */
function scoreThreshold(): number {
  const v = Number($<HTMLInputElement>('score').value);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0.5;
}

/** Draw the last run again with the current controls (no inference). */
function redraw(): void {
  if (!state.input) return;
  state.people = state.allPeople.filter((p) => p.score >= scoreThreshold());
  render(state.input, state.people);
  state.redraws++;
  say(`${state.people.length} of ${state.allPeople.length} ${state.allPeople.length === 1 ? 'person' : 'people'} shown (score ≥ ${scoreThreshold()}) (${state.executionProvider})`);
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
      // Everyone the model finds; the score control then only filters (see redraw).
      const all = await dp.estimate(image, { scoreThreshold: 0 });
      state.input = image;
      state.allPeople = all;
      state.people = all.filter((p) => p.score >= scoreThreshold());
      render(image, state.people);
      state.runs++;
      say(`${state.people.length} ${state.people.length === 1 ? 'person' : 'people'} found in ${(performance.now() - t0).toFixed(0)} ms (${state.executionProvider})`);
      return state.people;
    } finally {
      busy = false;
    }
  };
  state.ready = true;
  say(`model "${dp.spec.name}" ready on ${state.executionProvider}: pick an image, the sample or the webcam`);
  if (params.has('sample')) $<HTMLButtonElement>('sample').click();

  const fileInput = $<HTMLInputElement>('file');
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      await state.run(pixelsOf(bitmap, bitmap.width, bitmap.height));
    } catch (e) {
      fail(e);
    } finally {
      // Picking the same file again must fire "change" again.
      fileInput.value = '';
    }
  });

  $<HTMLButtonElement>('sample').addEventListener('click', async () => {
    try {
      const r = await fetch(new URL('./sample.png', location.href));
      if (!r.ok) throw new Error(`sample image: HTTP ${r.status}`);
      const bitmap = await createImageBitmap(await r.blob());
      await state.run(pixelsOf(bitmap, bitmap.width, bitmap.height));
    } catch (e) {
      fail(e);
    }
  });

  for (const id of ['parts', 'uv', 'boxes']) $<HTMLInputElement>(id).addEventListener('change', redraw);
  $<HTMLInputElement>('score').addEventListener('input', redraw);
  const legend = $<HTMLOListElement>('legend-list');
  legend.innerHTML = PART_NAMES.map((name, i) => `<li><span style="background: rgb(${PART_COLORS[3 * (i + 1)]}, ${PART_COLORS[3 * (i + 1) + 1]}, ${PART_COLORS[3 * (i + 1) + 2]})"></span>${name}</li>`).join('');
  $<HTMLInputElement>('legend').addEventListener('change', (ev) => {
    legend.hidden = !(ev.target as HTMLInputElement).checked;
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
