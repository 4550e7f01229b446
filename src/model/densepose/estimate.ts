import * as tf from '@tensorflow/tfjs-core';
import type { Executor } from '../../runtime/executor.ts';
import type { DensePoseBranch } from './branch.ts';
import type { ChartOutputs } from './predictor.ts';
import { type DensePoseResult, chartOutputsToArrays, chartOutputsToResults, prepareBoxes } from './postprocess.ts';

export interface EstimateDensePoseOptions {
  /** Image `[h, w]` the boxes are clipped to. When omitted, boxes are used as given. */
  imageSize?: readonly [number, number];
}

export interface DensePoseEstimates {
  /** One entry per input box, `null` where the box was skipped (no area after clipping). */
  results: (DensePoseResult | null)[];
  /** Number of skipped boxes. */
  skipped: number;
}

/**
 * Inference for a batch of person boxes on tfjs: clip/filter boxes, pool, head, predictor, and
 * detectron2's chart conversion. FPN maps NHWC `[1,H/s,W/s,C]` finest first; boxes `[K,4]` xyxy.
 * Zero boxes → empty results, without running the head. Frees every intermediate tensor.
 */
export async function estimateDensePose(branch: DensePoseBranch, ex: Executor<tf.Tensor>, fpn: readonly tf.Tensor4D[], boxes: Float32Array, options: EstimateDensePoseOptions = {}): Promise<DensePoseEstimates> {
  const prepared = prepareBoxes(boxes, options.imageSize);
  const results: (DensePoseResult | null)[] = new Array<DensePoseResult | null>(boxes.length / 4).fill(null);
  if (prepared.index.length === 0) return { results, skipped: prepared.skipped };
  const out = tf.tidy(() => ({ ...branch.forward(ex, fpn, prepared.boxes) })) as ChartOutputs<tf.Tensor>;
  try {
    const arrays = await chartOutputsToArrays(out, branch.config.segmConfidenceEpsilon);
    chartOutputsToResults(arrays, prepared.boxes).forEach((r, j) => (results[prepared.index[j]!] = r));
  } finally {
    tf.dispose([out.coarseSegm, out.fineSegm, out.u, out.v, ...Object.values(out.confidences ?? {})]);
  }
  return { results, skipped: prepared.skipped };
}
