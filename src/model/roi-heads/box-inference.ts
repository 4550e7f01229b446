// Box-head inference on the host (no tfjs: the ONNX Runtime and browser pipelines use it too).
import { applyDeltas, batchedNms, clipBoxes, gather, gatherBoxes } from '../boxes.ts';

/** Final detections of one image, by descending score. */
export interface Detections {
  /** `[D,4]` x1,y1,x2,y2 input pixels, clipped to the image. */
  boxes: Float32Array;
  /** `[D]` softmax class probability. */
  scores: Float32Array;
  /** `[D]` class index 0..K-1 (0 = person). */
  classes: Int32Array;
}

export interface BoxInferenceOptions {
  numClasses: number;
  bboxRegWeights: readonly [number, number, number, number];
  scoreThresh: number;
  nmsThresh: number;
  topK: number;
}

/**
 * `fast_rcnn_inference_single_image`: softmax, decode per class, clip, score threshold, per-class NMS, top-k.
 * logits `[R,K+1]`, deltas `[R,4·M]` (M = K or 1), proposals `[R,4]`, imageSize unpadded `[h,w]`.
 */
export function boxInference(logits: Float32Array, deltas: Float32Array, proposals: Float32Array, imageSize: readonly [number, number], o: BoxInferenceOptions): Detections {
  const r = proposals.length / 4;
  const k = o.numClasses;
  const m = r === 0 ? 1 : deltas.length / (4 * r);
  const boxes = clipBoxes(applyDeltas(deltas, proposals, o.bboxRegWeights), imageSize[0], imageSize[1]);
  const probs = new Float32Array(r * (k + 1));
  for (let i = 0; i < r; i++) {
    let max = -Infinity;
    for (let c = 0; c <= k; c++) max = Math.max(max, logits[i * (k + 1) + c]!);
    let sum = 0;
    for (let c = 0; c <= k; c++) sum += Math.exp(logits[i * (k + 1) + c]! - max);
    for (let c = 0; c <= k; c++) probs[i * (k + 1) + c] = Math.exp(logits[i * (k + 1) + c]! - max) / sum;
  }
  // nonzero() of the [R,K] mask: row-major (proposal, then class).
  const candBoxes: number[] = [];
  const candScores: number[] = [];
  const candClasses: number[] = [];
  for (let i = 0; i < r; i++) {
    for (let c = 0; c < k; c++) {
      const s = probs[i * (k + 1) + c]!;
      if (!(s > o.scoreThresh)) continue;
      const b = (i * m + (m === 1 ? 0 : c)) * 4;
      candBoxes.push(boxes[b]!, boxes[b + 1]!, boxes[b + 2]!, boxes[b + 3]!);
      candScores.push(s);
      candClasses.push(c);
    }
  }
  const cb = Float32Array.from(candBoxes);
  const cs = Float32Array.from(candScores);
  const cc = Int32Array.from(candClasses);
  const keep = batchedNms(cb, cs, cc, o.nmsThresh, o.topK);
  return { boxes: gatherBoxes(cb, keep), scores: gather(cs, keep), classes: Int32Array.from(keep, (i) => cc[i]!) };
}
