import type { DensePosePoints } from '../model/densepose/losses.ts';
import type { DenseIuv, DenseIuvRef } from '../data/dense-iuv.ts';
import type { Rle } from '../data/mask.ts';

/**
 * DensePose annotation of one person: the loss's points (COCO's 256×256 box frame, per-point confidence
 * for distillation pseudo-labels) plus what the loader reads with the image.
 */
export interface PersonDensePose extends DensePosePoints {
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
  densepose?: PersonDensePose;
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
