import type { DenseIuv, DenseIuvRef } from '../data/dense-iuv.ts';
import type { Rle } from '../data/mask.ts';

/** DensePose annotation of one person, in COCO's 256×256 box frame. */
export interface DensePosePoints {
  /** Point x, y in the box frame (0..256, COCO `dp_x`/`dp_y`). */
  x: Float32Array;
  y: Float32Array;
  /** Fine part 1..24 per point. */
  i: Uint8Array;
  u: Float32Array;
  v: Float32Array;
  /** Per-point confidence (distillation pseudo-labels); 1 for human labels. */
  weight?: Float32Array;
  /** Coarse parts 0..14, `[256,256]` row-major, rasterised from `dp_masks`; absent when unlabeled. */
  masks?: Uint8Array;
  /** Dense labels over the box (`dp_dense`, read by the loader); when present the losses use them instead of points and masks. */
  dense?: DenseIuv;
}

/** Where a person's `dp_dense` labels are, kept until the loader reads them with the image. */
export interface DenseSource {
  /** Absolute path of the PNG. */
  file: string;
  ref: DenseIuvRef;
  /** The annotation's box `[x, y, w, h]` in original image pixels (the map spans it). */
  bbox: [number, number, number, number];
  /** The annotation's RLE when `ref.mask` is `"segmentation"`. */
  segmentation?: Rle;
}

/** One person of a training image after augmentation; boxes in the resized image's pixels. */
export interface PersonTarget {
  /** `[x1, y1, x2, y2]`. */
  box: [number, number, number, number];
  iscrowd: boolean;
  densepose?: DensePosePoints;
  /** Unread `dp_dense` labels of the person (the loader turns them into `densepose.dense`). */
  denseSource?: DenseSource;
}

/** One augmented training image, ready for the model. */
export interface TrainSample {
  /** RGB `[H,W,3]` uint8 after resize/flip/jitter. */
  image: Uint8Array;
  width: number;
  height: number;
  people: PersonTarget[];
  /** Index of the data set it came from (mixing ratios, per-set loss weights). */
  datasetIndex: number;
  imageId: number;
  flipped: boolean;
}

/** How a left/right mirror acts on DensePose labels (DensePose's `UV_symmetry_transforms` in functional form). */
export interface FlipSymmetry {
  /** Mirror one labelled point: fine part I (1..24) and (U, V) → mirrored part and chart coordinates. */
  flipPoint(i: number, u: number, v: number): [number, number, number];
  /** Coarse part (1..14) → its mirror. */
  coarseSwap: Uint8Array;
}
