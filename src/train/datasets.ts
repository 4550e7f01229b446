import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DensePoseError } from '../errors.ts';
import { loadCocoDensePose, personTarget } from '../data/coco-densepose.ts';
import type { CocoAnnotation, CocoDataset } from '../data/coco.ts';
import type { SourceDataset, SourceImage } from './loader.ts';
import type { FlipSymmetry, PersonTarget } from './sample.ts';

export interface TrainingSetOptions {
  ratio?: number;
  symmetry?: FlipSymmetry;
  /** Report images that are missing or do not decode (they are skipped). */
  onSkip?: (file: string, reason: string) => void;
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

/** One annotation → a training person (xyxy box; DensePose points kept in COCO's 256 frame). */
export function annotationToPerson(a: CocoAnnotation): PersonTarget {
  const [x, y, w, h] = a.bbox;
  const p: PersonTarget = { box: [x, y, x + w, y + h], iscrowd: Boolean(a.iscrowd) };
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
    people: (ds.annotationsByImage.get(im.id) ?? []).map(annotationToPerson),
  }));
  return { name: path, images, ratio: options.ratio, symmetry: options.symmetry };
}
