// detectron2's `find_top_rpn_proposals` for one image on typed arrays only (no tfjs), so the tfjs
// detector, the ONNX pipeline and the browser page share one implementation.
import { applyDeltas, batchedNms, clipBoxes, gather, gatherBoxes } from '../boxes.ts';

/** RPN proposals of one image, detectron2's order (descending objectness after NMS). */
export interface Proposals {
  /** `[K,4]` x1,y1,x2,y2 input pixels, clipped to the image. */
  boxes: Float32Array;
  /** `[K]` objectness logits. */
  logits: Float32Array;
}

export interface ProposalSelectOptions {
  preNmsTopK: number;
  postNmsTopK: number;
  nmsThresh: number;
  /** Boxes must be wider and taller than this (input pixels). */
  minSize: number;
}

/** Top-k of `values` (descending, ties by index) — torch.topk's result order. */
export function topK(values: Float32Array, k: number): Int32Array {
  const n = values.length;
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i).sort((p, q) => values[q]! - values[p]! || p - q);
  // Partial selection: a threshold from a sorted copy, then stable sort of the survivors.
  const sorted = Float32Array.from(values).sort();
  const kth = sorted[n - k]!;
  const cand: number[] = [];
  for (let i = 0; i < n; i++) if (values[i]! >= kth) cand.push(i);
  cand.sort((p, q) => values[q]! - values[p]! || p - q);
  return Int32Array.from(cand.slice(0, k));
}

export function concatArrays(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Per level top-k objectness, decode against the level's anchors, drop non-finite (detectron2 does at
 * test time), clip to `imageSize` `[h, w]`, drop boxes not larger than `minSize`, NMS per level,
 * keep `postNmsTopK`. `logits[l]` `[H_l·W_l·A]`, `deltas[l]` `[H_l·W_l·A·4]` (NHWC flattened).
 */
export function selectProposals(
  anchorsOf: (level: number, height: number, width: number) => Float32Array,
  logits: readonly Float32Array[],
  deltas: readonly Float32Array[],
  sizes: readonly (readonly [number, number])[],
  imageSize: readonly [number, number],
  o: ProposalSelectOptions,
): Proposals {
  const boxes: Float32Array[] = [];
  const scores: Float32Array[] = [];
  const levels: number[] = [];
  logits.forEach((lg, l) => {
    const [h, w] = sizes[l]!;
    const idx = topK(lg, Math.min(o.preNmsTopK, lg.length));
    boxes.push(applyDeltas(gatherBoxes(deltas[l]!, idx), gatherBoxes(anchorsOf(l, h, w), idx), [1, 1, 1, 1]));
    scores.push(gather(lg, idx));
    for (let i = 0; i < idx.length; i++) levels.push(l);
  });
  let all = concatArrays(boxes);
  let sc = concatArrays(scores);
  let lv = Int32Array.from(levels);
  const finite: number[] = [];
  for (let i = 0; i < sc.length; i++) {
    if (Number.isFinite(sc[i]!) && Number.isFinite(all[4 * i]!) && Number.isFinite(all[4 * i + 1]!) && Number.isFinite(all[4 * i + 2]!) && Number.isFinite(all[4 * i + 3]!)) finite.push(i);
  }
  if (finite.length !== sc.length) [all, sc, lv] = [gatherBoxes(all, finite), gather(sc, finite), Int32Array.from(finite, (i) => lv[i]!)];
  clipBoxes(all, imageSize[0], imageSize[1]);
  const keep: number[] = [];
  for (let i = 0; i < sc.length; i++) if (all[4 * i + 2]! - all[4 * i]! > o.minSize && all[4 * i + 3]! - all[4 * i + 1]! > o.minSize) keep.push(i);
  if (keep.length !== sc.length) [all, sc, lv] = [gatherBoxes(all, keep), gather(sc, keep), Int32Array.from(keep, (i) => lv[i]!)];
  const kept = batchedNms(all, sc, lv, o.nmsThresh, o.postNmsTopK);
  return { boxes: gatherBoxes(all, kept), logits: gather(sc, kept) };
}
