// Public result types of the library API (STYLE.md "Our public API").
import type { DensePoseResult } from '../model/densepose/postprocess.ts';

/**
 * One person's dense map over their box, row-major `[height, width]` planes at box size (integer box
 * width/height as detectron2's converter makes them): `labels` 0..24 (0 background), `u`/`v` in [0,1]
 * (0 on background). `toIUV()` gives the interleaved `[height, width, 3]` bytes (I, U·255, V·255).
 */
export type DensePoseMap = DensePoseResult;

/** A detected person: box `[x, y, w, h]` in the input image's pixels, detection score, dense map. */
export interface DensePosePerson {
  box: [number, number, number, number];
  score: number;
  densepose: DensePoseMap;
}

/** A float32 tensor going into or out of one stage: row-major data in `shape` (NHWC for maps). */
export interface StageTensor {
  data: Float32Array;
  shape: readonly number[];
}
