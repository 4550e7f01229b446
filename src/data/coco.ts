// COCO JSON: types and validating readers for ground truth and detection results.
import { readJsonFile } from '../io.ts';
import { DensePoseError } from '../errors.ts';
import { rleArea, rleRuns, rleToBbox } from './mask.ts';
import type { BoxXywh, Rle, UncompressedRle } from './mask.ts';
import type { DenseIuvRef } from './dense-iuv.ts';

export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name: string;
  [key: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name: string;
  [key: string]: unknown;
}

/** COCO `segmentation`: polygons, or an RLE (uncompressed for crowds, compressed in results). */
export type CocoSegmentation = number[][] | Rle | UncompressedRle;

/** DensePose fields of a person annotation (DESIGN.md §5). */
export interface DensePoseAnnotationFields {
  /** Point x in the 256×256 frame of the box: image x = dp_x/255·w + x0. */
  dp_x: number[];
  dp_y: number[];
  /** Part 1..24 per point. */
  dp_I: number[];
  /** Chart coordinates in [0,1]. */
  dp_U: number[];
  dp_V: number[];
  /** 14 coarse part masks, RLE of 256×256 over the box, or empty (`[]`/`0`) where the part is absent. */
  dp_masks?: (Rle | UncompressedRle | [] | 0 | null)[];
  /** Our extension: dense I, U, V (+ confidence) of every pixel, in a PNG (docs/dense-targets.md). */
  dp_dense?: DenseIuvRef;
}

export interface CocoAnnotation extends Partial<DensePoseAnnotationFields> {
  id: number;
  image_id: number;
  category_id: number;
  bbox: BoxXywh;
  area: number;
  iscrowd: number;
  segmentation?: CocoSegmentation;
  [key: string]: unknown;
}

export interface CocoDataset {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  [key: string]: unknown;
}

/** One detection of a COCO results file. DensePose results add `uv_shape` and `uv_data`. */
export interface CocoResult {
  image_id: number;
  category_id: number;
  bbox: BoxXywh;
  score: number;
  segmentation?: Rle;
  /** [3, h, w] at box size, h = int(bbox h), w = int(bbox w). */
  uv_shape?: [number, number, number];
  /** base64 PNG whose R, G, B are I, U·255, V·255. */
  uv_data?: string;
}

/** A result after loading: 1-based `id` in file order, `area` as pycocotools' loadRes sets it. */
export interface LoadedResult extends CocoResult {
  id: number;
  area: number;
  /** Position in the results file, for messages. */
  index: number;
}

/** Parse a JSON file; errors name the file (and the line/column of a syntax error). */
export { readJsonFile } from '../io.ts';

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function checkBox(v: unknown, where: string): BoxXywh {
  if (!Array.isArray(v) || v.length !== 4 || !v.every(isFiniteNumber) || (v[2] as number) < 0 || (v[3] as number) < 0) {
    throw new DensePoseError('BAD_INPUT', `bbox must be [x, y, w, h] of finite numbers with w, h ≥ 0, got ${JSON.stringify(v)}`, { where });
  }
  return v as BoxXywh;
}

/** A COCO `segmentation`: polygons of ≥ 3 finite points, or a well-formed RLE (decoded lazily later). */
function checkSegmentation(v: unknown, where: string): void {
  if (Array.isArray(v)) {
    v.forEach((p, i) => {
      if (!Array.isArray(p) || p.length < 6 || p.length % 2 !== 0 || !p.every(isFiniteNumber)) {
        throw new DensePoseError('BAD_INPUT', `polygon ${i} must be an even list of ≥ 6 finite numbers [x0, y0, x1, y1, …]`, { where });
      }
    });
    return;
  }
  rleRuns(v as Rle, where);
}

/**
 * Check the COCO structure of a ground-truth dataset (images, annotations, categories), naming the
 * annotation id and field of any error. DensePose fields are checked by `coco-densepose.ts`.
 */
export function validateCocoDataset(raw: unknown, where: string): CocoDataset {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new DensePoseError('BAD_FILE', 'expected a JSON object with images, annotations, categories', { where });
  const d = raw as Record<string, unknown>;
  for (const k of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(d[k])) throw new DensePoseError('MISSING_KEY', `"${k}" must be an array`, { where });
  }
  const imageIds = new Set<number>();
  (d.images as unknown[]).forEach((im, i) => {
    const o = im as Record<string, unknown>;
    const at = `${where}: images[${i}]`;
    if (!o || typeof o !== 'object') throw new DensePoseError('BAD_INPUT', 'not an object', { where: at });
    if (!Number.isInteger(o.id)) throw new DensePoseError('BAD_INPUT', `"id" must be an integer, got ${JSON.stringify(o.id)}`, { where: at });
    for (const k of ['width', 'height']) {
      if (!Number.isInteger(o[k]) || (o[k] as number) <= 0) throw new DensePoseError('BAD_INPUT', `image ${o.id}: "${k}" must be a positive integer, got ${JSON.stringify(o[k])}`, { where: at });
    }
    if (imageIds.has(o.id as number)) throw new DensePoseError('BAD_INPUT', `duplicate image id ${o.id}`, { where: at });
    imageIds.add(o.id as number);
  });
  const annIds = new Set<number>();
  (d.annotations as unknown[]).forEach((a, i) => {
    const o = a as Record<string, unknown>;
    if (!o || typeof o !== 'object') throw new DensePoseError('BAD_INPUT', `annotations[${i}] is not an object`, { where });
    const at = `${where}: annotation ${Number.isInteger(o.id) ? `id ${o.id}` : `[${i}]`}`;
    if (!Number.isInteger(o.id)) throw new DensePoseError('BAD_INPUT', `field "id" must be an integer, got ${JSON.stringify(o.id)}`, { where: at });
    if (annIds.has(o.id as number)) throw new DensePoseError('BAD_INPUT', 'duplicate annotation id', { where: at });
    annIds.add(o.id as number);
    if (!imageIds.has(o.image_id as number)) throw new DensePoseError('BAD_INPUT', `field "image_id" ${JSON.stringify(o.image_id)} is not an image of this file`, { where: at });
    if (!Number.isInteger(o.category_id)) throw new DensePoseError('BAD_INPUT', `field "category_id" must be an integer, got ${JSON.stringify(o.category_id)}`, { where: at });
    checkBox(o.bbox, `${at} field "bbox"`);
    if (!isFiniteNumber(o.area) || o.area < 0) throw new DensePoseError('BAD_INPUT', `field "area" must be a number ≥ 0, got ${JSON.stringify(o.area)}`, { where: at });
    if (o.iscrowd === undefined) o.iscrowd = 0;
    if (o.iscrowd !== 0 && o.iscrowd !== 1 && o.iscrowd !== true && o.iscrowd !== false) {
      throw new DensePoseError('BAD_INPUT', `field "iscrowd" must be 0 or 1, got ${JSON.stringify(o.iscrowd)}`, { where: at });
    }
    o.iscrowd = o.iscrowd ? 1 : 0;
    if (o.segmentation !== undefined) checkSegmentation(o.segmentation, `${at} field "segmentation"`);
  });
  (d.categories as unknown[]).forEach((c, i) => {
    const o = c as Record<string, unknown>;
    if (!o || !Number.isInteger(o.id)) throw new DensePoseError('BAD_INPUT', `categories[${i}]: "id" must be an integer`, { where });
  });
  return raw as CocoDataset;
}

/** Read and validate a COCO ground-truth JSON file. */
export function loadCocoJson(path: string): CocoDataset {
  return validateCocoDataset(readJsonFile(path), path);
}

/** Options of {@link validateCocoResults}. */
export interface ValidateResultsOptions {
  /** Require `uv_shape`/`uv_data` on every result (DensePose evaluation). @default false */
  requireDensePose?: boolean;
  /** Require `segmentation` (segm evaluation). @default false */
  requireSegmentation?: boolean;
}

/**
 * Check a results list against its ground truth, as pycocotools' `loadRes` does, but with errors
 * that say which result is wrong: every `image_id` must be an image of the ground truth (the
 * reference refuses the whole file otherwise). Ids are assigned 1..N in file order; `area` is
 * the box area when a box is present, else the mask area.
 */
export function validateCocoResults(raw: unknown, gt: CocoDataset, where: string, options: ValidateResultsOptions = {}): LoadedResult[] {
  const list = raw && typeof raw === 'object' && !Array.isArray(raw) && Array.isArray((raw as { annotations?: unknown }).annotations)
    ? (raw as { annotations: unknown[] }).annotations
    : raw;
  if (!Array.isArray(list)) throw new DensePoseError('BAD_FILE', 'expected a JSON array of detections', { where });
  const imageIds = new Set(gt.images.map((im) => im.id));
  return list.map((r, i) => {
    const o = r as Record<string, unknown>;
    const at = `${where}: result ${i}`;
    if (!o || typeof o !== 'object') throw new DensePoseError('BAD_INPUT', 'not an object', { where: at });
    if (!imageIds.has(o.image_id as number)) {
      throw new DensePoseError('NOT_FOUND', `image_id ${JSON.stringify(o.image_id)} is not an image of the ground truth (${gt.images.length} images)`, { where: at });
    }
    if (!Number.isInteger(o.category_id)) throw new DensePoseError('BAD_INPUT', `"category_id" must be an integer, got ${JSON.stringify(o.category_id)}`, { where: at });
    if (!isFiniteNumber(o.score)) throw new DensePoseError('BAD_INPUT', `"score" must be a finite number, got ${JSON.stringify(o.score)}`, { where: at });
    const hasBox = Array.isArray(o.bbox) && o.bbox.length > 0;
    if (options.requireSegmentation && o.segmentation === undefined) throw new DensePoseError('MISSING_KEY', '"segmentation" is required for segm evaluation', { where: at });
    if (options.requireDensePose) {
      if (o.uv_shape === undefined || o.uv_data === undefined) throw new DensePoseError('MISSING_KEY', '"uv_shape" and "uv_data" are required for DensePose evaluation', { where: at });
    }
    if (o.uv_shape !== undefined) {
      const s = o.uv_shape;
      if (!Array.isArray(s) || s.length !== 3 || s[0] !== 3 || !s.every((x) => Number.isInteger(x) && x >= 0)) {
        throw new DensePoseError('SHAPE_MISMATCH', `"uv_shape" must be [3, h, w] with integer h, w, got ${JSON.stringify(s)}`, { where: at });
      }
      if (typeof o.uv_data !== 'string') throw new DensePoseError('BAD_INPUT', '"uv_data" must be a base64 PNG string', { where: at });
    }
    if (o.segmentation !== undefined) checkSegmentation(o.segmentation, `${at} "segmentation"`);
    let area: number;
    let bbox: BoxXywh;
    if (hasBox) {
      bbox = checkBox(o.bbox, `${at} "bbox"`);
      area = bbox[2] * bbox[3];
    } else if (o.segmentation !== undefined) {
      const runs = rleRuns(o.segmentation as Rle, `${at} "segmentation"`);
      area = rleArea(runs);
      bbox = rleToBbox(runs);
    } else {
      throw new DensePoseError('MISSING_KEY', 'a result needs "bbox" (or "segmentation")', { where: at });
    }
    return { ...(o as unknown as CocoResult), bbox, id: i + 1, area, index: i };
  });
}
