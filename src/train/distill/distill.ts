// Data distillation (Radosavovic et al. 2018): a teacher labels unlabelled images under test-time
// views (scales × optional flip); fused, confident people become COCO-DensePose pseudo-labels.
import { mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { encodeDenseIuvPng } from '../../data/dense-iuv.ts';
import { writeFileAtomic } from '../../runtime/checkpoint/atomic-write.ts';
import { DensePoseError } from '../../errors.ts';
import type { CocoAnnotation, CocoImage } from '../../data/coco.ts';
import { expandInputs, mediaKind, readImage, type RgbImage } from '../../infer/image-io.ts';
import { createDensePose, type DensePose, type InferBackend } from '../../infer/densepose.ts';
import type { DetectedBatch } from '../../infer/pipeline.ts';
import type { DensePoseRcnn } from '../../model/densepose-rcnn.ts';
import { initBackend, type BackendName } from '../../runtime/backend.ts';
import type { FlipSymmetry } from '../sample.ts';
import { fuseBoxes } from './fuse-boxes.ts';
import { flipTables, fuseCharts, type FlipTables, type ViewChart } from './fuse-charts.ts';
import { type DistillShard, type DistillTransforms, type TransformView, formatTransforms, transformViews } from './options.ts';
import { pseudoAnnotation } from './pseudo-labels.ts';
import { finalizePseudoLabels, type DistillInfo, type PseudoLabelSet, writePseudoLabels } from './pseudo-set.ts';
import { loadTeacher } from './teacher.ts';

export interface DistillOptions {
  /** Run folder of `densepose train`, a `.safetensors` model file, or a built model (not disposed). */
  teacher: string | DensePoseRcnn;
  /** Folder of unlabelled images (jpeg, png, …); `file_name`s are relative to it. */
  images: string;
  /** Write the pseudo-labels JSON here (atomically). @default not written */
  out?: string;
  /** Test-time views. @default { flip: false, scales: [] } (the teacher's own minSizeTest) */
  transforms?: DistillTransforms;
  /** Part/UV mirror table; required when `transforms.flip`. @default none */
  symmetry?: FlipSymmetry;
  /** Keep people whose fused score (mean over views, a missing view counting 0) is at least this. @default 0.8 */
  score?: number;
  /** Label only images with `index % count === index` of the sorted list. @default { index: 0, count: 1 } */
  shard?: DistillShard;
  /** Longest side cap of every scale. @default the teacher's maxSizeTest */
  maxSize?: number;
  /** IoU for weighted box fusion. @default 0.55 */
  fuseIou?: number;
  /** Dense points per person at most. @default 150 */
  maxPoints?: number;
  /**
   * Folder for each person's dense pseudo-label PNG (`dp_dense`: I, U·255, V·255, confidence·255 over the
   * box, docs/dense-targets.md), named `<image id>-<person>.png` so shards never collide; `false` = points only.
   * @default `dense/` beside `out` (points only without `out`)
   */
  denseDir?: string | false;
  /** Grid `[h, w]` the views are fused on. @default the DensePose head's output size */
  grid?: [number, number];
  /** Boxes per DensePose head call (bounds memory). @default 8 */
  boxBatch?: number;
  /** List images in sub-folders too. @default false */
  recursive?: boolean;
  /** Keep images where nobody passed the threshold (they then train as background). @default false */
  keepEmptyImages?: boolean;
  /** tfjs backend to initialise first (the teacher is built on tfjs; `engine: 'tfjs'` runs on it). @default the one already initialised */
  backend?: BackendName;
  /** Where the teacher's inference pipeline runs (see `createDensePose`'s `backend`). @default 'onnx' */
  engine?: InferBackend;
  /** ORT intra-op threads; 0 = one per core. @default 0 */
  threads?: number;
  signal?: AbortSignal;
  /** After each image of this shard. */
  onImage?: (event: { file: string; done: number; total: number; people: number }) => void;
}

export interface DistillResult {
  labels: PseudoLabelSet;
  /** Images that could not be read, with the reason. */
  failed: { file: string; reason: string }[];
}

/** A view's detected batch (it holds the maps the DensePose head pools from) and whether it is mirrored. */
interface ViewState {
  view: TransformView;
  detected: DetectedBatch;
}

function flipPixels(img: RgbImage): Uint8Array {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = 3 * (y * w + x), d = 3 * (y * w + (w - 1 - x));
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return out;
}

/** Boxes `[K,4]` xyxy in original pixels → the view's image pixels (mirror: x ↦ W − x); also the way back. */
function mirrorBoxes(boxes: Float32Array, flip: boolean, width: number): Float32Array {
  if (!flip) return boxes;
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = width - boxes[i + 2]!;
    out[i + 1] = boxes[i + 1]!;
    out[i + 2] = width - boxes[i]!;
    out[i + 3] = boxes[i + 3]!;
  }
  return out;
}

/** Everything the per-image labelling needs, resolved once. */
interface Plan {
  /** The teacher's inference pipeline. */
  dp: DensePose;
  views: TransformView[];
  flip: FlipTables | undefined;
  maxSize: number;
  score: number;
  fuseIou: number;
  maxPoints: number;
  grid: [number, number];
  boxBatch: number;
  /** Where dense PNGs go and the folder their `dp_dense.iuv` paths are relative to. */
  dense: { dir: string; relativeTo: string } | null;
}

/**
 * Pseudo-label one image: detections of every view fused, people above the score threshold run
 * through the DensePose head in every view and fused. Annotation ids start at `firstId`.
 */
async function labelImage(plan: Plan, img: RgbImage, imageId: number, firstId: number): Promise<CocoAnnotation[]> {
  const { dp } = plan;
  const states: ViewState[] = [];
  const boxes: number[] = [], scores: number[] = [], viewIds: number[] = [];
  let flipped: RgbImage | undefined;
  for (const [vi, view] of plan.views.entries()) {
    const image = view.flip ? (flipped ??= { width: img.width, height: img.height, data: flipPixels(img) }) : img;
    const detected = await dp.detect([image], { minSize: view.scale, maxSize: plan.maxSize });
    states.push({ view, detected });
    const d = detected.detections[0]!;
    const original = mirrorBoxes(d.boxes, view.flip, img.width);
    for (let k = 0; k < d.scores.length; k++) {
      boxes.push(...original.subarray(4 * k, 4 * k + 4));
      scores.push(d.scores[k]!);
      viewIds.push(vi);
    }
  }
  const fused = fuseBoxes({ boxes: Float32Array.from(boxes), scores: Float32Array.from(scores), views: Int32Array.from(viewIds) }, { viewCount: plan.views.length, iou: plan.fuseIou });
  const kept: number[] = [];
  for (let k = 0; k < fused.scores.length; k++) {
    const b = fused.boxes.subarray(4 * k, 4 * k + 4);
    if (fused.scores[k]! >= plan.score && b[2]! - b[0]! >= 1 && b[3]! - b[1]! >= 1) kept.push(k);
  }
  const anns: CocoAnnotation[] = [];
  for (let start = 0; start < kept.length; start += plan.boxBatch) {
    const chunk = kept.slice(start, start + plan.boxBatch);
    const chunkBoxes = new Float32Array(4 * chunk.length);
    chunk.forEach((k, j) => chunkBoxes.set(fused.boxes.subarray(4 * k, 4 * k + 4), 4 * j));
    const chunkScores = Float32Array.from(chunk, (k) => fused.scores[k]!);
    // Per person j: the views' outputs for it (a view that clipped the box away has none).
    const perPerson: ViewChart[][] = chunk.map(() => []);
    for (const s of states) {
      const runs = await dp.densePoseCharts(s.detected, [{ boxes: mirrorBoxes(chunkBoxes, s.view.flip, img.width), scores: chunkScores }], { headBatch: plan.boxBatch });
      for (const { arrays, rois } of runs) rois.forEach((roi, k) => perPerson[roi.index]!.push({ arrays, k, flipped: s.view.flip }));
    }
    for (const [j, k] of chunk.entries()) {
      if (perPerson[j]!.length === 0) continue;
      const chart = fuseCharts(perPerson[j]!, plan.grid[0], plan.grid[1], plan.flip);
      const ann = pseudoAnnotation(chart, fused.boxes.subarray(4 * k, 4 * k + 4), fused.scores[k]!, { id: firstId + anns.length, imageId }, { maxPoints: plan.maxPoints });
      if (plan.dense && ann.dp_I) {
        const file = join(plan.dense.dir, `${String(imageId).padStart(6, '0')}-${anns.length}.png`);
        writeFileAtomic(file, [await encodeDenseIuvPng({ width: chart.width, height: chart.height, i: chart.labels, u: chart.u, v: chart.v, confidence: chart.confidence })]);
        ann.dp_dense = { iuv: relative(plan.dense.relativeTo, file).split('\\').join('/'), region: ann.bbox };
      }
      anns.push(ann);
    }
  }
  return anns;
}

function denseTarget(o: DistillOptions): Plan['dense'] {
  if (o.denseDir === false || (o.denseDir === undefined && !o.out)) return null;
  if (o.denseDir === undefined) return { dir: join(dirname(o.out!), 'dense'), relativeTo: dirname(o.out!) };
  return { dir: o.denseDir, relativeTo: o.out ? dirname(o.out) : process.cwd() };
}

/** The image files of `dir`, sorted (the order shards are cut from). */
export async function listImages(dir: string, recursive = false): Promise<string[]> {
  const files = await expandInputs([dir], { recursive });
  return files.filter((f) => mediaKind(f) === 'image');
}

function checkOptions(o: DistillOptions): void {
  const score = o.score ?? 0.8;
  if (!(score >= 0 && score <= 1)) throw new DensePoseError('BAD_OPTION', `score threshold must be in [0, 1], got ${score}`, { where: 'distill score' });
  if (o.transforms?.flip && !o.symmetry) throw new DensePoseError('BAD_OPTION', 'the flip transform needs a part/UV symmetry table (options.symmetry)', { where: 'distill transforms' });
  const sh = o.shard;
  if (sh && !(Number.isInteger(sh.index) && Number.isInteger(sh.count) && sh.count >= 1 && sh.index >= 0 && sh.index < sh.count)) {
    throw new DensePoseError('BAD_OPTION', `shard must be i/n with integers 0 ≤ i < n, got ${sh.index}/${sh.count}`, { where: 'distill shard' });
  }
  for (const [name, v] of [['maxPoints', o.maxPoints], ['boxBatch', o.boxBatch]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new DensePoseError('BAD_OPTION', `${name} must be a positive integer, got ${v}`, { where: `distill ${name}` });
  }
}

/**
 * Label the images of `options.images` (this shard's share) with the teacher. An unsharded run's
 * output is final (ids 1..M, 1..N); a shard's output is joined by {@link mergeShards} into the
 * same bytes. Unreadable images are listed in `failed` and left out. Needs an initialised tfjs backend.
 */
export async function distill(options: DistillOptions): Promise<DistillResult> {
  checkOptions(options);
  if (options.backend) await initBackend({ backend: options.backend });
  const shard = options.shard ?? { index: 0, count: 1 };
  const files = await listImages(options.images, options.recursive);
  const rcnn = typeof options.teacher === 'string' ? loadTeacher(options.teacher) : options.teacher;
  let dp: DensePose | undefined;
  try {
    const input = rcnn.config.input ?? {};
    const views = transformViews(options.transforms ?? { flip: false, scales: [] }, input.minSizeTest ?? 800);
    // The teacher runs through the inference pipeline (stages exported from its weights, on the chosen engine),
    // keeping detections down to its config's test threshold: the fused score decides who is labelled.
    dp = await createDensePose({ model: rcnn, backend: options.engine ?? 'onnx', threads: options.threads ?? 0, batchSize: 1, scoreThreshold: rcnn.model.roi_heads.options.scoreThreshTest });
    const plan: Plan = {
      dp,
      views,
      flip: options.transforms?.flip ? flipTables(options.symmetry!) : undefined,
      maxSize: options.maxSize ?? input.maxSizeTest ?? 1333,
      score: options.score ?? 0.8,
      fuseIou: options.fuseIou ?? 0.55,
      maxPoints: options.maxPoints ?? 150,
      grid: options.grid ?? rcnn.densepose.outputSize,
      boxBatch: options.boxBatch ?? 8,
      dense: denseTarget(options),
    };
    if (plan.dense) mkdirSync(plan.dense.dir, { recursive: true });
    const mine = files.map((file, index) => ({ file, index })).filter(({ index }) => index % shard.count === shard.index);
    const images: CocoImage[] = [];
    const annotations: CocoAnnotation[] = [];
    const failed: { file: string; reason: string }[] = [];
    for (const [done, { file, index }] of mine.entries()) {
      if (options.signal?.aborted) throw new DensePoseError('ABORTED', `distillation stopped after ${done} of ${mine.length} images`, { where: options.images });
      let img: RgbImage;
      try {
        img = await readImage(file);
      } catch (e) {
        failed.push({ file, reason: (e as Error).message });
        continue;
      }
      const imageId = index + 1;
      const anns = await labelImage(plan, img, imageId, annotations.length + 1);
      if (anns.length > 0 || options.keepEmptyImages) {
        images.push({ id: imageId, file_name: relative(options.images, file).split('\\').join('/'), width: img.width, height: img.height });
        annotations.push(...anns);
      }
      options.onImage?.({ file, done: done + 1, total: mine.length, people: anns.length });
    }
    const info: DistillInfo = {
      teacher: typeof options.teacher === 'string' ? options.teacher : rcnn.config.name ?? 'model',
      // Absolute, so training finds the images wherever the label file is moved or merged.
      imageDir: resolve(options.images),
      transforms: formatTransforms(views),
      score: plan.score,
      imageCount: files.length,
    };
    const labels: PseudoLabelSet =
      shard.count === 1
        ? finalizePseudoLabels(images, annotations, info)
        : { images, annotations, categories: [{ id: 1, name: 'person', supercategory: 'person' }], distill: { ...info, shard } };
    if (options.out) writePseudoLabels(options.out, labels);
    return { labels, failed };
  } finally {
    await dp?.dispose();
    if (typeof options.teacher === 'string') rcnn.model.dispose();
  }
}
