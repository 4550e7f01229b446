import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DensePoseError } from '../errors.ts';
import { loadCocoDensePose, personTarget } from '../data/coco-densepose.ts';
import type { CocoAnnotation, CocoDataset } from '../data/coco.ts';
import type { Rle } from '../data/mask.ts';
import type { SourceDataset, SourceImage } from './loader.ts';
import type { FlipSymmetry, PersonTarget } from './sample.ts';

/** Which DensePose labels a data set trains with: `dense` uses `dp_dense` where an annotation has it (points elsewhere); `points` ignores `dp_dense`. */
export const TARGET_KINDS = ['dense', 'points'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface TrainingSetOptions {
  ratio?: number;
  /** @default 'dense' */
  targets?: TargetKind;
  symmetry?: FlipSymmetry;
  /** Report images that are missing or do not decode (they are skipped), and annotations dropped (see {@link isTrainableBox}). */
  onSkip?: (file: string, reason: string) => void;
}

/**
 * Boxes under one pixel wide or high cannot train a detector: the box deltas take log(w), so a
 * zero-area box makes the loss infinite. Such annotations are dropped and reported.
 */
export function isTrainableBox(a: CocoAnnotation): boolean {
  return a.bbox[2] >= 1 && a.bbox[3] >= 1;
}

/** `DIR` (with `annotations.json` and `images/`) or a JSON file (images beside it, or in `images/` beside it). */
export function resolveDataPaths(path: string): { json: string; imageDir: string } {
  if (!existsSync(path)) throw new DensePoseError('NOT_FOUND', 'data set not found', { where: path });
  if (statSync(path).isDirectory()) {
    const json = join(path, 'annotations.json');
    if (!existsSync(json)) throw new DensePoseError('NOT_FOUND', `data set folder has no annotations.json (expected ${json}; a COCO-DensePose JSON file can also be given directly)`, { where: path });
    return { json, imageDir: join(path, 'images') };
  }
  const dir = dirname(path);
  return { json: path, imageDir: existsSync(join(dir, 'images')) ? join(dir, 'images') : dir };
}

/**
 * One annotation → a training person (xyxy box; DensePose points kept in COCO's 256 frame). With
 * `denseBaseDir` (the annotation file's folder), a `dp_dense` becomes a `denseSource` for the loader.
 */
export function annotationToPerson(a: CocoAnnotation, denseBaseDir?: string): PersonTarget {
  const [x, y, w, h] = a.bbox;
  const p: PersonTarget = { box: [x, y, x + w, y + h], iscrowd: Boolean(a.iscrowd) };
  if (a.dp_dense && denseBaseDir !== undefined) {
    p.denseSource = { file: join(denseBaseDir, a.dp_dense.iuv), ref: a.dp_dense, bbox: [x, y, w, h], segmentation: a.dp_dense.mask === 'segmentation' ? (a.segmentation as Rle) : undefined };
    p.densepose = { x: new Float32Array(0), y: new Float32Array(0), i: new Uint8Array(0), u: new Float32Array(0), v: new Float32Array(0) };
  }
  if (a.dp_x && a.dp_y && a.dp_I && a.dp_U && a.dp_V) {
    const weight = (a as { dp_conf?: number[] }).dp_conf;
    p.densepose = {
      x: Float32Array.from(a.dp_x),
      y: Float32Array.from(a.dp_y),
      i: Uint8Array.from(a.dp_I),
      u: Float32Array.from(a.dp_U),
      v: Float32Array.from(a.dp_V),
      weight: weight ? Float32Array.from(weight) : undefined,
      masks: personTarget(a)?.masks ?? undefined,
    };
  }
  return p;
}

/**
 * The image folder a pseudo-label file (`densepose distill` output) records in its `distill.imageDir`
 * header, when that folder exists; relative paths there are relative to the JSON's folder.
 */
export function recordedImageDir(data: CocoDataset, json: string): string | undefined {
  const dir = (data as { distill?: { imageDir?: unknown } }).distill?.imageDir;
  if (typeof dir !== 'string' || dir === '') return undefined;
  const abs = resolve(dirname(json), dir);
  return existsSync(abs) && statSync(abs).isDirectory() ? abs : undefined;
}

/**
 * Load a COCO-DensePose set for training. Images come from the folder a pseudo-label file records,
 * else from `images/` beside the JSON, else the JSON's folder. A few unreadable images are skipped
 * and reported; a set where none can be read is an error naming the folder.
 */
export async function loadTrainingSet(path: string, options: TrainingSetOptions = {}): Promise<SourceDataset> {
  const { json, imageDir: besideJson } = resolveDataPaths(path);
  let recorded: string | undefined;
  const ds = await loadCocoDensePose(json, {
    imageDir: besideJson,
    resolveImageDir: (data) => (recorded = recordedImageDir(data, json)),
    onSkip: (im, reason) => options.onSkip?.(join(recorded ?? besideJson, im.file_name), reason),
  });
  const imageDir = ds.imageDir ?? besideJson;
  if (ds.images.length === 0 && ds.skipped.length > 0) {
    const first = ds.skipped[0]!;
    throw new DensePoseError('NOT_FOUND', `none of the ${ds.skipped.length} images could be read from ${imageDir} (first: ${first.image.file_name}: ${first.reason}); put the images there or record their folder in the file's "distill.imageDir"`, { where: json });
  }
  const images: SourceImage[] = ds.images.map((im) => ({
    id: im.id,
    file: join(imageDir, im.file_name),
    width: im.width,
    height: im.height,
    people: (ds.annotationsByImage.get(im.id) ?? [])
      .filter((a) => {
        if (isTrainableBox(a)) return true;
        options.onSkip?.(json, `annotation id ${a.id} (image ${im.id}): box ${a.bbox[2]}×${a.bbox[3]} is under 1 pixel wide or high, dropped`);
        return false;
      })
      .map((a) => annotationToPerson(a, (options.targets ?? 'dense') === 'dense' ? dirname(json) : undefined)),
  }));
  return { name: path, images, ratio: options.ratio, symmetry: options.symmetry };
}
