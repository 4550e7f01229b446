// Structural types of what vis draws. vis reads results only (DESIGN.md §8), so these mirror the
// model's `DensePosePerson` by shape rather than importing it.

/** An 8-bit RGB image, row-major interleaved: `data` is `[height, width, 3]`. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A box's dense prediction at box resolution, all planes row-major `[height, width]`. */
export interface DensePoseMap {
  width: number;
  height: number;
  /** Part index per pixel: 0 background, 1..24 the charts of DESIGN.md §1. */
  labels: Uint8Array;
  /** Chart coordinate U in [0, 1]. */
  u: Float32Array;
  /** Chart coordinate V in [0, 1]. */
  v: Float32Array;
}

/** One detected person: box `[x, y, w, h]` in image pixels, detection score, dense map over the box. */
export interface DensePosePerson {
  box: readonly [number, number, number, number];
  score: number;
  densepose: DensePoseMap;
}

/** A texture atlas (or any image) with 3 (RGB) or 4 (RGBA) interleaved channels: `data` is `[height, width, channels]`. */
export interface AtlasImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}
