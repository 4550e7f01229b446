// JSON forms of DensePose results: the COCO DensePose challenge's `uv_shape` / `uv_data` (base64 PNG
// whose R, G, B are I, U·255, V·255 at box size) or plain arrays; and a person as a COCO result.
import { encodePngSync, toBase64 } from './png-encode.ts';

/** How {@link densePoseMapToJson} writes the planes. */
export const IUV_JSON_FORMATS = ['png', 'arrays'] as const;
export type IuvJsonFormat = (typeof IUV_JSON_FORMATS)[number];

/** Options of the results' `toJSON`. */
export interface DensePoseJsonOptions {
  /** `'png'`: `uv_shape` + `uv_data` (challenge format, small); `'arrays'`: `labels`, `u`, `v` as number arrays. @default 'png' */
  iuv?: IuvJsonFormat;
}

/** What a map's planes look like to the encoders (`toIUV`: interleaved `[h,w,3]` I, U·255, V·255). */
export interface IuvPlanes {
  width: number;
  height: number;
  labels: Uint8Array;
  u: Float32Array;
  v: Float32Array;
  toIUV(): Uint8Array;
}

export type DensePoseMapJson =
  | { width: number; height: number; uv_shape: [3, number, number]; uv_data: string }
  | { width: number; height: number; labels: number[]; u: number[]; v: number[] };

/** The challenge's `uv_shape` and `uv_data` of interleaved IUV bytes `[h,w,3]`. */
export function encodeUvData(iuv: Uint8Array, width: number, height: number): { uv_shape: [3, number, number]; uv_data: string } {
  return { uv_shape: [3, height, width], uv_data: toBase64(encodePngSync(iuv, width, height, 3)) };
}

/**
 * A map as JSON. `options` may also be the key `JSON.stringify` passes to `toJSON` (a string), which
 * selects the default form.
 */
export function densePoseMapToJson(map: IuvPlanes, options?: DensePoseJsonOptions | string): DensePoseMapJson {
  const format = (typeof options === 'object' && options.iuv) || 'png';
  if (format === 'arrays') return { width: map.width, height: map.height, labels: Array.from(map.labels), u: Array.from(map.u), v: Array.from(map.v) };
  return { width: map.width, height: map.height, ...encodeUvData(map.toIUV(), map.width, map.height) };
}
