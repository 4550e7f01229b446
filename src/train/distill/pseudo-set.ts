// The pseudo-label file: a COCO-DensePose JSON plus a `distill` header; shards and their merge.
import { dirname, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../runtime/checkpoint/atomic-write.ts';
import { DensePoseError } from '../../errors.ts';
import { readJsonFile, validateCocoDataset, type CocoAnnotation, type CocoCategory, type CocoDataset, type CocoImage } from '../../data/coco.ts';
import { validateDensePoseAnnotation } from '../../data/coco-densepose.ts';
import type { DistillShard } from './options.ts';

/** How a pseudo-label file was made. */
export interface DistillInfo {
  /** Teacher as given (run folder or model file). */
  teacher: string;
  /** Folder the images' `file_name`s are relative to. */
  imageDir: string;
  /** Canonical transform list, e.g. `flip,scales=600,800`. */
  transforms: string;
  /** Fused-score threshold people passed. */
  score: number;
  /** Images in the whole (unsharded) sorted list. */
  imageCount: number;
  /** Present in shard files only. */
  shard?: DistillShard;
}

/**
 * Pseudo-labels as COCO-DensePose. In a shard file an image's id is 1 + its position in the sorted
 * list of all images (so shards interleave back in order) and annotation ids are local; a final
 * file (unsharded run or merge) numbers images 1..M and annotations 1..N in image order.
 */
export interface PseudoLabelSet extends CocoDataset {
  distill: DistillInfo;
}

export const PERSON_CATEGORY: CocoCategory = { id: 1, name: 'person', supercategory: 'person' };

/** Renumber images (by their sorted-list id) and annotations (image order, then file order) from 1. */
export function finalizePseudoLabels(images: readonly CocoImage[], annotations: readonly CocoAnnotation[], info: DistillInfo): PseudoLabelSet {
  const sorted = [...images].sort((a, b) => a.id - b.id);
  const newId = new Map(sorted.map((im, i) => [im.id, i + 1]));
  const byImage = new Map<number, CocoAnnotation[]>(sorted.map((im) => [im.id, []]));
  for (const a of annotations) {
    const list = byImage.get(a.image_id);
    if (!list) throw new DensePoseError('BAD_INPUT', `annotation ${a.id} names image ${a.image_id}, which is not in the file`, { where: 'pseudo-labels' });
    list.push(a);
  }
  let next = 1;
  const outAnns: CocoAnnotation[] = [];
  for (const im of sorted) for (const a of byImage.get(im.id)!) outAnns.push({ ...a, id: next++, image_id: newId.get(im.id)! });
  const { shard: _shard, ...header } = info;
  return {
    images: sorted.map((im) => ({ ...im, id: newId.get(im.id)! })),
    annotations: outAnns,
    categories: [{ ...PERSON_CATEGORY }],
    distill: header,
  };
}

/** Serialise deterministically (key order as built, one trailing newline) and write atomically. */
export function writePseudoLabels(path: string, set: PseudoLabelSet): void {
  writeFileAtomic(path, [Buffer.from(`${JSON.stringify(set)}\n`)]);
}

/** Read and check a pseudo-label (or shard) file: COCO-DensePose structure plus the `distill` header. */
export function readPseudoLabels(path: string): PseudoLabelSet {
  const raw = validateCocoDataset(readJsonFile(path), path) as PseudoLabelSet;
  for (const a of raw.annotations) validateDensePoseAnnotation(a, path);
  const d = raw.distill as Partial<DistillInfo> | undefined;
  if (!d || typeof d !== 'object' || typeof d.transforms !== 'string' || typeof d.score !== 'number' || !Number.isInteger(d.imageCount)) {
    throw new DensePoseError('MISSING_KEY', 'not a `densepose distill` output: no "distill" header with transforms, score and imageCount', { where: path });
  }
  return raw;
}

/**
 * Join shard files of one distillation (same transforms, score, image count and shard count; every
 * shard index exactly once) into the file an unsharded run writes, byte for byte.
 */
export function mergeShards(shards: readonly { path: string; set: PseudoLabelSet }[]): PseudoLabelSet {
  if (shards.length === 0) throw new DensePoseError('BAD_OPTION', 'distill merge: no shard files given');
  const first = shards[0]!;
  const count = first.set.distill.shard?.count ?? 1;
  const seen = new Map<number, string>();
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  const imageIds = new Map<number, string>();
  for (const { path, set } of shards) {
    const d = set.distill;
    for (const key of ['transforms', 'score', 'imageCount'] as const) {
      if (d[key] !== first.set.distill[key]) {
        throw new DensePoseError('BAD_INPUT', `"distill.${key}" is ${JSON.stringify(d[key])} but ${first.path} has ${JSON.stringify(first.set.distill[key])}: shards of different runs cannot be merged`, { where: path });
      }
    }
    const shard = d.shard ?? { index: 0, count: 1 };
    if (shard.count !== count) throw new DensePoseError('BAD_INPUT', `is shard ${shard.index}/${shard.count}, but ${first.path} is one of ${count} shards`, { where: path });
    const dup = seen.get(shard.index);
    if (dup !== undefined) throw new DensePoseError('BAD_INPUT', `shard ${shard.index}/${count} given twice (also ${dup})`, { where: path });
    seen.set(shard.index, path);
    for (const im of set.images) {
      const other = imageIds.get(im.id);
      if (other !== undefined) throw new DensePoseError('BAD_INPUT', `image ${im.id} (${im.file_name}) is also in ${other}`, { where: path });
      imageIds.set(im.id, path);
      images.push(im);
    }
    // Annotation ids are local to a shard: key them apart before the final renumbering.
    for (const a of set.annotations) annotations.push({ ...a, id: annotations.length + 1 });
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) throw new DensePoseError('BAD_INPUT', `missing shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} of ${count}`, { where: 'distill merge' });
  return finalizePseudoLabels(images, annotations, first.set.distill);
}

/** `dp_dense.iuv` paths are relative to their file's folder: re-point them for a file written in `toDir`. */
export function rebaseDensePaths(set: PseudoLabelSet, fromDir: string, toDir: string): PseudoLabelSet {
  if (resolve(fromDir) === resolve(toDir)) return set;
  const annotations = set.annotations.map((a) => (a.dp_dense ? { ...a, dp_dense: { ...a.dp_dense, iuv: relative(toDir, resolve(fromDir, a.dp_dense.iuv)).split('\\').join('/') } } : a));
  return { ...set, annotations };
}

/** Read shard files, merge them and write the result to `out` (when given; dense PNG paths re-pointed from there). */
export function mergeShardFiles(paths: readonly string[], out?: string): PseudoLabelSet {
  const merged = mergeShards(paths.map((path) => ({ path, set: rebaseDensePaths(readPseudoLabels(path), dirname(path), out ? dirname(out) : dirname(path)) })));
  if (out) writePseudoLabels(out, merged);
  return merged;
}
