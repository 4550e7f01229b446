// The data set writer: N images rendered in parallel workers (or in-process), each written as
// images/NNNNNN.png (or .jpg) and iuv/NNNNNN.png (R, G, B = I, U·255, V·255), all annotations in
// one COCO-DensePose annotations.json (each person with DensePose labels also points at its pixels
// of the IUV PNG: `dp_dense`, docs/dense-targets.md), the evaluation body in body/, and optionally a preview
// sheet. Every image depends only on (seed, index), so the output is byte-identical for a seed
// whatever the number of workers.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { DensePoseError, ioError, type ErrorCode } from '../errors.ts';
import { ensureDir, writeFileAtomic, writeFileAtomicSync } from '../io.ts';
import { annotateScene } from './annotate.ts';
import type { SynthAnnotation } from './annotate.ts';
import { writeBodyModel } from './body-files.ts';
import { writeContactSheet } from './preview.ts';
import { createSceneRenderer, renderScene, resolveSceneOptions } from './scene.ts';
import type { RenderSceneOptions, RenderedScene } from './scene.ts';
import { COCO_KEYPOINT_NAMES, COCO_SKELETON } from './skeleton.ts';

export const IMAGE_FORMATS = ['png', 'jpg'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Options of {@link generateDataset}. */
export interface SynthDatasetOptions extends Omit<RenderSceneOptions, 'index'> {
  /** Output directory. */
  out: string;
  /** Number of images. */
  images: number;
  /** Image file format. @default 'png' */
  format?: ImageFormat;
  /** Overwrite a non-empty output directory. @default false */
  force?: boolean;
  /** Also write preview.png (RGB | I | U | V of the first 8 images). @default false */
  preview?: boolean;
  /** Worker threads; 0 or 1 renders in this thread. @default min(4, CPUs − 1) */
  workers?: number;
  /** DensePose points per person. @default 100 */
  pointsPerPerson?: number;
  /** Write the evaluation body model to body/. @default true */
  body?: boolean;
  /** Distance-matrix rows of the body model (see writeBodyModel). @default 1000 */
  bodyRows?: number;
}

/** What {@link generateDataset} wrote. */
export interface SynthDatasetResult {
  out: string;
  images: number;
  annotations: number;
  /** Path of annotations.json. */
  annotationsPath: string;
  /** Seconds spent. */
  seconds: number;
}

export type ProgressCallback = (done: number, total: number) => void;

/** Most images of one data set: six-digit file stems, and annotations for all of them are held in memory. */
export const MAX_IMAGES = 1_000_000;

/** Present in the output folder while a data set is being written; a rerun may overwrite such a folder without `force`. */
export const INCOMPLETE_MARKER = '.synth-incomplete';

/** Check options up front; throws BAD_OPTION naming the option and its valid values. */
export function validateDatasetOptions(o: SynthDatasetOptions): void {
  if (typeof o.out !== 'string' || o.out === '') throw new DensePoseError('BAD_OPTION', 'an output directory is needed (--out DIR)', { where: 'synth option "out"' });
  if (!Number.isInteger(o.images) || o.images < 1 || o.images > MAX_IMAGES) throw new DensePoseError('BAD_OPTION', `images must be an integer in 1..${MAX_IMAGES}, got ${o.images}`, { where: 'synth option "images"' });
  if (o.format !== undefined && !(IMAGE_FORMATS as readonly string[]).includes(o.format)) {
    throw new DensePoseError('BAD_OPTION', `Unknown image format "${o.format}". Expected one of: ${IMAGE_FORMATS.join(', ')}.`, { where: 'synth option "format"' });
  }
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 64)) throw new DensePoseError('BAD_OPTION', `workers must be an integer in 0..64, got ${o.workers}`, { where: 'synth option "workers"' });
  if (o.pointsPerPerson !== undefined && (!Number.isInteger(o.pointsPerPerson) || o.pointsPerPerson < 1)) throw new DensePoseError('BAD_OPTION', `pointsPerPerson must be a positive integer, got ${o.pointsPerPerson}`, { where: 'synth option "pointsPerPerson"' });
  if (o.bodyRows !== undefined && (!Number.isInteger(o.bodyRows) || o.bodyRows < 2)) throw new DensePoseError('BAD_OPTION', `bodyRows must be an integer ≥ 2, got ${o.bodyRows}`, { where: 'synth option "bodyRows"' });
  resolveSceneOptions({ ...o, index: 0 });
}

/** Image `index` (0-based) is image_id index + 1 and is named by that id, COCO style (`000001.png`), so `densepose infer` on DIR/images gives the ids of annotations.json. */
const fileStem = (index: number): string => String(index + 1).padStart(6, '0');

/** Everything one image needs to be written, as posted to a worker. */
export interface ImageJob {
  out: string;
  format: ImageFormat;
  scene: Omit<RenderSceneOptions, 'index'>;
  pointsPerPerson: number;
}

/** Render, annotate and write image `index`; returns its annotations (ids filled in later). */
export async function writeImage(job: ImageJob, index: number, render: (o: RenderSceneOptions) => RenderedScene = renderScene): Promise<SynthAnnotation[]> {
  const scene = render({ ...job.scene, index });
  const anns = annotateScene(scene, { pointsPerPerson: job.pointsPerPerson, seed: ((job.scene.seed ?? 0) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0 });
  const { width: W, height: H } = scene;
  const img = sharp(scene.rgb, { raw: { width: W, height: H, channels: 3 } });
  const stem = fileStem(index);
  // encoded in memory, then written atomically: a kill never leaves half an image under its name
  const encoded = await (job.format === 'jpg' ? img.jpeg({ quality: 92 }) : img.png({ compressionLevel: 6 })).toBuffer();
  await writeFileAtomic(join(job.out, 'images', `${stem}.${job.format}`), encoded);
  const iuv = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) {
    if (scene.partIndex[p] === 0) continue;
    iuv[3 * p] = scene.partIndex[p]!;
    iuv[3 * p + 1] = Math.round(scene.u[p]! * 255);
    iuv[3 * p + 2] = Math.round(scene.v[p]! * 255);
  }
  await writeFileAtomic(join(job.out, 'iuv', `${stem}.png`), await sharp(iuv, { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer());
  for (const a of anns) if (a.dp_x) a.dp_dense = { iuv: `iuv/${stem}.png`, region: [0, 0, W, H], mask: 'segmentation' };
  return anns;
}

/**
 * Make `out` ready: empty, or (with `force`, or when a killed run left it incomplete) cleared of a
 * previous data set. The marker file says "being written" until annotations.json is in place.
 */
function prepareOutDir(out: string, force: boolean): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new DensePoseError('IO', 'exists and is a file, not a folder; choose another --out', { where: out });
    const entries = readdirSync(out);
    if (entries.length > 0) {
      const interrupted = entries.includes(INCOMPLETE_MARKER);
      if (!force && !interrupted) throw new DensePoseError('BAD_OPTION', `output directory is not empty (${entries.length} entries); pass --force (force: true) to overwrite it`, { where: out });
      try {
        for (const e of ['images', 'iuv', 'body', 'annotations.json', 'preview.png']) rmSync(join(out, e), { recursive: true, force: true });
      } catch (e) {
        throw ioError(e, out, 'clear the output folder');
      }
    }
  }
  ensureDir(join(out, 'images'));
  ensureDir(join(out, 'iuv'));
  writeFileAtomicSync(join(out, INCOMPLETE_MARKER), [Buffer.from('densepose synth is writing this folder; a rerun overwrites it\n')]);
}

/**
 * Start a worker: `worker.js` next to this module in the built package; from a source checkout (.ts)
 * `worker.ts`, after registering tsx's loader, as the main thread runs under it.
 */
function spawnWorker(job: ImageJob): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  if (!fromSource) return new Worker(url, { workerData: job });
  // the ESM entry of tsx/esm/api (require.resolve would give the CommonJS one)
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const api = pathToFileURL(join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData: job });
}

async function renderAll(job: ImageJob, n: number, workers: number, onDone: () => void): Promise<SynthAnnotation[][]> {
  const results: SynthAnnotation[][] = new Array(n);
  if (workers <= 1 || n < 4) {
    const renderer = createSceneRenderer();
    for (let i = 0; i < n; i++) {
      results[i] = await writeImage(job, i, (o) => renderer.render(o));
      onDone();
    }
    return results;
  }
  // each worker takes the next index when it reports one done
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(workers, n) }, () => new Promise<void>((resolve, reject) => {
    const w = spawnWorker(job);
    const feed = () => {
      if (next >= n) { void w.terminate().then(() => resolve()); return; }
      w.postMessage(next++);
    };
    w.on('message', (m: { index: number; annotations?: SynthAnnotation[]; error?: string; code?: ErrorCode; where?: string }) => {
      if (m.error !== undefined) { void w.terminate(); reject(new DensePoseError(m.code ?? 'IO', `image ${m.index}: ${m.error}`, m.where ? { where: m.where } : {})); return; }
      results[m.index] = m.annotations!;
      onDone();
      feed();
    });
    w.on('error', reject);
    feed();
  })));
  return results;
}

/** Write a synthetic COCO-DensePose data set to `options.out`. */
export async function generateDataset(options: SynthDatasetOptions & { onProgress?: ProgressCallback }): Promise<SynthDatasetResult> {
  validateDatasetOptions(options);
  const t0 = performance.now();
  const { out, images: n } = options;
  prepareOutDir(out, options.force ?? false);
  const format = options.format ?? 'png';
  const { out: _o, images: _n, format: _f, force: _force, preview: _p, workers: _w, pointsPerPerson: _pp, body: _b, bodyRows: _br, onProgress: _cb, ...scene } = options;
  const resolved = resolveSceneOptions({ ...scene, index: 0 });
  const job: ImageJob = { out, format, scene: { ...resolved }, pointsPerPerson: options.pointsPerPerson ?? 100 };
  const workers = options.workers ?? Math.max(1, Math.min(4, cpus().length - 1));
  let done = 0;
  const perImage = await renderAll(job, n, workers, () => options.onProgress?.(++done, n));
  const annotations: SynthAnnotation[] = [];
  const imagesJson = [];
  for (let i = 0; i < n; i++) {
    imagesJson.push({ id: i + 1, width: resolved.width, height: resolved.height, file_name: `${fileStem(i)}.${format}` });
    for (const a of perImage[i]!) annotations.push({ ...a, id: annotations.length + 1, image_id: i + 1 });
  }
  const dataset = {
    info: { description: 'densepose-ts synthetic people', version: '1', seed: resolved.seed, width: resolved.width, height: resolved.height },
    licenses: [],
    images: imagesJson,
    annotations,
    categories: [{ id: 1, name: 'person', supercategory: 'person', keypoints: [...COCO_KEYPOINT_NAMES], skeleton: COCO_SKELETON.map((e) => [...e]) }],
  };
  const annotationsPath = join(out, 'annotations.json');
  if (options.body ?? true) writeBodyModel(join(out, 'body'), { rows: options.bodyRows });
  if (options.preview) {
    const renderer = createSceneRenderer();
    const scenes = Array.from({ length: Math.min(8, n) }, (_, i) => {
      const s = renderer.render({ ...job.scene, index: i });
      return { ...s, rgb: s.rgb.slice(), partIndex: s.partIndex.slice(), u: s.u.slice(), v: s.v.slice() };
    });
    await writeContactSheet(join(out, 'preview.png'), scenes);
  }
  // last: the annotations file says the set is complete
  writeFileAtomicSync(annotationsPath, [Buffer.from(JSON.stringify(dataset))]);
  rmSync(join(out, INCOMPLETE_MARKER), { force: true });
  return { out, images: n, annotations: annotations.length, annotationsPath, seconds: (performance.now() - t0) / 1000 };
}
