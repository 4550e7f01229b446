// What `densepose infer` does with its inputs: images and videos in, COCO DensePose results,
// whole-image IUV PNGs and overlays out; unreadable inputs are reported, never fatal.
import { ensureDir } from '../io.ts';
import { basename, extname, join } from 'node:path';
import { DensePoseError } from '../errors.ts';
import { encodeMask, type Rle } from '../data/mask.ts';
import { drawBoxes, drawChart, drawParts, drawUvIsolines, personMask, withPartLegend, savePng, wholeImageIUV, type RgbImage, writeFileAtomic } from '../vis/index.ts';
import type { DensePose } from './densepose.ts';
import { mediaKind, readImage } from './image-io.ts';
import type { DensePoseCocoResult, DensePosePerson } from './types.ts';
import { createVideoWriter, probeVideo, readVideoFrames } from './video-io.ts';

/**
 * Overlays, drawn in the order given: `parts` fine segmentation (part colours), `u` / `v` one chart
 * coordinate as a colour ramp, `uv` U and V contour lines with part borders, `boxes` boxes and
 * scores, `legend` the part-name legend beside the picture (last, whatever its position).
 */
export const VIS_KINDS = ['parts', 'u', 'v', 'uv', 'boxes', 'legend'] as const;
export type VisKind = (typeof VIS_KINDS)[number];

/** detectron2 `apply_net show` visualiser names → ours. */
export const VIS_ALIASES = { dp_segm: 'parts', dp_u: 'u', dp_v: 'v', dp_contour: 'uv', bbox: 'boxes' } as const satisfies Record<string, VisKind>;

export interface RunInputsOptions {
  /** Output folder (created). */
  outDir: string;
  /**
   * Image ids by file name (COCO `images[].file_name` → `id`, e.g. from the ground truth you will score
   * against); files not listed get ids after the largest. @default ids from integer file names, else 1, 2, …
   */
  imageIds?: ReadonlyMap<string, number>;
  /** Overlays drawn, in this order, into one picture per image / frame. Empty: no overlays. @default ['parts', 'boxes'] */
  vis?: readonly VisKind[];
  /** Resample videos to this rate. @default the video's own */
  videoFps?: number;
  /** Write a whole-image IUV PNG per image (and per video frame under `<stem>_iuv/`). @default true */
  iuv?: boolean;
  /** Images per estimate call. @default 4 */
  batchSize?: number;
  /** Add each person's confidence maps (models with confidence heads) to the results. @default false */
  confidence?: boolean;
  /** Called after each input file (progress). */
  onFile?: (file: string, index: number, info: string) => void;
  /**
   * Stop early (Ctrl-C): the batch or video in progress finishes, then results.json and images.json
   * are written for the inputs done so far and the report says `interrupted`.
   */
  signal?: AbortSignal;
}

/** One processed image or video frame, as listed in `images.json`. */
export interface ImageRecord {
  id: number;
  file_name: string;
  width: number;
  height: number;
  /** Frame index for video frames. */
  frame?: number;
  /** People found (with score above the threshold). */
  people: number;
}

/** A result as `results.json` holds it: the challenge fields plus the person's mask for `segm` evaluation. */
export type InferResult = DensePoseCocoResult & {
  /** Compressed COCO RLE of the person's foreground (part > 0) at image size. */
  segmentation: Rle;
};

/** A person as a `results.json` entry of image `imageId` (`width`×`height`): challenge fields and segmentation. */
export function toInferResult(person: DensePosePerson, imageId: number, width: number, height: number): InferResult {
  return { ...person.toCocoResult(imageId), segmentation: encodeMask(personMask(person, width, height), height, width) };
}

export interface RunInputsReport {
  /** COCO DensePose challenge results with `segmentation`, also written to `results.json`. */
  results: InferResult[];
  /** Images and frames with their ids, also written to `images.json`. */
  images: ImageRecord[];
  /** Inputs that could not be read or processed, with the reason. */
  failed: { file: string; reason: string }[];
  /** Written files other than the JSONs. */
  written: string[];
  /** Inputs not started because `signal` was aborted (0 when all were run). */
  notStarted: number;
}

/** Ids: an image named by an integer (COCO style, `000000397133.jpg`) keeps that id when all image names are distinct integers; otherwise 1, 2, … */
function assignIds(files: readonly string[], known?: ReadonlyMap<string, number>): Map<string, number> {
  const ids = new Map<string, number>();
  if (known) {
    let next = Math.max(0, ...known.values()) + 1;
    for (const f of files) ids.set(f, known.get(basename(f)) ?? next++);
    return ids;
  }
  const stems = files.map((f) => basename(f, extname(f)));
  const numeric = files.every((f, i) => mediaKind(f) !== 'image' || /^\d+$/.test(stems[i]!));
  const nums = stems.filter((_, i) => mediaKind(files[i]!) === 'image').map(Number);
  const useNames = numeric && new Set(nums).size === nums.length && nums.every(Number.isSafeInteger);
  let next = useNames ? Math.max(0, ...nums) + 1 : 1;
  files.forEach((f, i) => {
    if (useNames && mediaKind(f) === 'image') ids.set(f, Number(stems[i]!));
    else if (mediaKind(f) === 'image' || mediaKind(f) === undefined) ids.set(f, next++);
  });
  return ids;
}

/** Why `file` failed, without repeating its name (the list shows it already). */
function reasonFor(e: unknown, file: string): string {
  if (e instanceof DensePoseError && e.where === file) return e.detail;
  return e instanceof Error ? e.message : String(e);
}

/** Output stems unique within the run (`a/x.png`, `b/x.png` → `x`, `x_2`). */
function uniqueStems(files: readonly string[]): Map<string, string> {
  const used = new Map<string, number>();
  const out = new Map<string, string>();
  for (const f of files) {
    const stem = basename(f, extname(f)) || 'input';
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    out.set(f, n === 1 ? stem : `${stem}_${n}`);
  }
  return out;
}

function overlay(image: RgbImage, people: readonly DensePosePerson[], vis: readonly VisKind[]): RgbImage {
  let out = image;
  for (const kind of vis) {
    if (kind === 'parts') out = drawParts(out, people);
    else if (kind === 'u' || kind === 'v') out = drawChart(out, people, kind);
    else if (kind === 'uv') out = drawUvIsolines(out, people);
    else if (kind === 'boxes') out = drawBoxes(out, people);
  }
  return vis.includes('legend') ? withPartLegend(out) : out;
}

/**
 * Run `dp` on media files (already expanded: see `expandInputs`). Images are batched; videos are
 * streamed frame by frame through one buffer into an mp4 with the overlays (`<stem>_overlay.mp4`).
 * Writes `results.json` (challenge format), `images.json` (ids ↔ files/frames), `<stem>_iuv.png`
 * and `<stem>_overlay.png` per image. A file that fails is listed in `failed`; the others go on.
 */
export async function runInputs(dp: DensePose, files: readonly string[], options: RunInputsOptions): Promise<RunInputsReport> {
  const vis = options.vis ?? ['parts', 'boxes'];
  for (const v of vis) if (!(VIS_KINDS as readonly string[]).includes(v)) throw new DensePoseError('BAD_OPTION', `Unknown overlay "${v}". Expected one of: ${VIS_KINDS.join(', ')}.`);
  const writeIuv = options.iuv ?? true;
  const batchSize = options.batchSize ?? 4;
  ensureDir(options.outDir);
  const ids = assignIds(files, options.imageIds);
  const stems = uniqueStems(files);
  let nextId = Math.max(0, ...ids.values()) + 1;
  const report: RunInputsReport = { results: [], images: [], failed: [], written: [], notStarted: 0 };
  const stopped = () => options.signal?.aborted === true;
  let done = 0;

  const emit = async (file: string, stem: string, id: number, image: RgbImage, people: DensePosePerson[], frame?: number) => {
    for (const p of people) {
      const r = toInferResult(p, id, image.width, image.height);
      report.results.push(options.confidence ? withConfidence(r, p) : r);
    }
    report.images.push({ id, file_name: file, width: image.width, height: image.height, ...(frame !== undefined ? { frame } : {}), people: people.length });
    if (writeIuv) {
      const path = frame === undefined ? join(options.outDir, `${stem}_iuv.png`) : join(options.outDir, `${stem}_iuv`, `${String(frame).padStart(6, '0')}.png`);
      await savePng(path, { width: image.width, height: image.height, data: wholeImageIUV(image.width, image.height, people) });
      report.written.push(path);
    }
  };

  // Images, in batches of readable ones.
  const images = files.filter((f) => mediaKind(f) !== 'video');
  const videos = files.filter((x) => mediaKind(x) === 'video');
  for (let i = 0; i < images.length; i += batchSize) {
    if (stopped()) {
      report.notStarted = images.length - i + videos.length;
      break;
    }
    const chunk = images.slice(i, i + batchSize);
    const read = await Promise.all(chunk.map((f) => readImage(f).then((im) => ({ f, im }), (e: unknown) => ({ f, error: e as Error }))));
    const good = read.filter((r): r is { f: string; im: RgbImage } => 'im' in r);
    for (const r of read) if ('error' in r) report.failed.push({ file: r.f, reason: reasonFor(r.error, r.f) });
    let people: DensePosePerson[][] = [];
    try {
      people = good.length > 0 ? await dp.estimate(good.map((g) => g.im)) : [];
    } catch (e) {
      for (const g of good) report.failed.push({ file: g.f, reason: reasonFor(e, g.f) });
      good.length = 0;
    }
    for (let k = 0; k < good.length; k++) {
      const { f, im } = good[k]!;
      const ps = people[k]!;
      const stem = stems.get(f)!;
      await emit(f, stem, ids.get(f)!, im, ps);
      if (vis.length > 0) {
        const path = join(options.outDir, `${stem}_overlay.png`);
        await savePng(path, overlay(im, ps, vis));
        report.written.push(path);
      }
    }
    for (const f of chunk) options.onFile?.(f, done++, `${basename(f)}`);
  }

  // Videos, frame by frame.
  for (const [k, f] of videos.entries()) {
    if (stopped()) {
      report.notStarted ||= videos.length - k;
      break;
    }
    const stem = stems.get(f)!;
    const outPath = join(options.outDir, `${stem}_overlay.mp4`);
    let writer: Awaited<ReturnType<typeof createVideoWriter>> | undefined;
    const before = { results: report.results.length, images: report.images.length };
    try {
      const info = await probeVideo(f);
      if (writeIuv) ensureDir(join(options.outDir, `${stem}_iuv`));
      for await (const frame of readVideoFrames(f, options.videoFps !== undefined ? { fps: options.videoFps } : {})) {
        const people = await dp.estimate(frame);
        await emit(f, stem, nextId++, frame, people, frame.index);
        if (vis.length > 0) {
          const picture = overlay(frame, people, vis); // wider than the frame with a legend
          writer ??= await createVideoWriter(outPath, { width: picture.width, height: picture.height, fps: options.videoFps ?? info.fps });
          await writer.write(picture);
        }
      }
      if (writer) {
        await writer.close();
        report.written.push(outPath);
      }
    } catch (e) {
      await writer?.abort();
      // A video that fails midway contributes nothing, so results never describe a partial file.
      report.results.length = before.results;
      report.images.length = before.images;
      report.failed.push({ file: f, reason: reasonFor(e, f) });
    }
    options.onFile?.(f, done++, basename(f));
  }

  await writeFileAtomic(join(options.outDir, 'results.json'), Buffer.from(JSON.stringify(report.results)));
  await writeFileAtomic(join(options.outDir, 'images.json'), Buffer.from(JSON.stringify({ images: report.images, failed: report.failed }, null, 1)));
  return report;
}

/** `result` plus the person's confidence maps, `[C,h,w]` float32 little-endian as base64 (none: unchanged). */
function withConfidence<R extends DensePoseCocoResult>(result: R, person: DensePosePerson): R {
  const maps = Object.entries(person.densepose.confidence ?? {}).filter((e): e is [string, Float32Array] => e[1] !== undefined);
  if (maps.length === 0) return result;
  const { width: w, height: h } = person.densepose;
  const all = new Float32Array(maps.length * w * h);
  maps.forEach(([, m], c) => all.set(m, c * w * h));
  const le = new Uint8Array(all.length * 4);
  const view = new DataView(le.buffer);
  all.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return { ...result, confidence: { names: maps.map(([n]) => n), shape: [maps.length, h, w], data: Buffer.from(le).toString('base64') } };
}
