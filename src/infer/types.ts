// Public result types of the library API (STYLE.md "Our public API").
import type { DensePoseJsonOptions, DensePoseMapJson } from '../data/densepose-json.ts';
import type { DensePoseResult } from '../model/densepose/postprocess.ts';

/**
 * One person's dense map over their box, row-major `[height, width]` planes at box size (integer box
 * width/height as detectron2's converter makes them): `labels` 0..24 (0 background), `u`/`v` in [0,1]
 * (0 on background). `toIUV()` gives the interleaved `[height, width, 3]` bytes (I, U·255, V·255);
 * `toJSON()` the challenge's `uv_shape`/`uv_data` (or plain arrays with `{ iuv: 'arrays' }`).
 */
export type DensePoseMap = DensePoseResult;

/** `JSON.stringify(person)`: box, score and the map in its JSON form. */
export interface DensePosePersonJson {
  box: [number, number, number, number];
  score: number;
  densepose: DensePoseMapJson;
}

/** One detection of a COCO DensePose results file (the challenge format `densepose eval` reads). */
export interface DensePoseCocoResult {
  image_id: number;
  category_id: number;
  /** `[x, y, w, h]` in image pixels. */
  bbox: [number, number, number, number];
  score: number;
  /** `[3, h, w]` at box size. */
  uv_shape: [3, number, number];
  /** base64 PNG whose R, G, B are I, U·255, V·255. */
  uv_data: string;
  /**
   * Confidence maps of WC/WCM models when asked for (`densepose infer --confidence`): `names` (sigma2,
   * kappaU, kappaV, fineSegm, coarseSegm: those the model has), `shape` `[C, h, w]` at box size, `data`
   * base64 of the float32 little-endian values, row-major.
   */
  confidence?: { names: string[]; shape: [number, number, number]; data: string };
}

/** A detected person: box `[x, y, w, h]` in the input image's pixels, detection score, dense map. */
export interface DensePosePerson {
  box: [number, number, number, number];
  score: number;
  densepose: DensePoseMap;
  /** Small JSON form (the map as a base64 PNG unless `{ iuv: 'arrays' }`); what `JSON.stringify` writes. */
  toJSON(options?: DensePoseJsonOptions | string): DensePosePersonJson;
  /** The person as a COCO DensePose result of image `imageId` (`category_id` 1, person). */
  toCocoResult(imageId: number): DensePoseCocoResult;
}

/** A float32 tensor going into or out of one stage: row-major data in `shape` (NHWC for maps). */
export interface StageTensor {
  data: Float32Array;
  shape: readonly number[];
}
