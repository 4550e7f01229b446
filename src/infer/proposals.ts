// detectron2's `find_top_rpn_proposals` for one image from the body stage's outputs, driven by the
// JSON spec instead of the `Rpn` module (so no tfjs parameters are needed to run it).
import { applyDeltas, batchedNms, clipBoxes, gather, gatherBoxes } from '../model/boxes.ts';
import { cellAnchors, gridAnchors } from '../model/rpn/anchors.ts';
import type { Proposals } from '../model/rpn/rpn.ts';
import type { PipelineSpec } from './spec.ts';

/** Top-k of `values` (descending, ties by lower index: torch.topk's order). */
function topK(values: Float32Array, k: number): Int32Array {
  const n = values.length;
  let cand: number[];
  if (k >= n) {
    cand = Array.from({ length: n }, (_, i) => i);
  } else {
    const kth = Float32Array.from(values).sort()[n - k]!;
    cand = [];
    for (let i = 0; i < n; i++) if (values[i]! >= kth) cand.push(i);
  }
  cand.sort((p, q) => values[q]! - values[p]! || p - q);
  return Int32Array.from(cand.slice(0, k));
}

/** Anchors per (level, map size), cached across calls of one pipeline. */
export class AnchorCache {
  private readonly cache = new Map<string, Float32Array>();
  constructor(private readonly rpn: PipelineSpec['rpn']) {}
  get(level: number, height: number, width: number): Float32Array {
    const key = `${level}:${height}x${width}`;
    let a = this.cache.get(key);
    if (!a) {
      a = gridAnchors(height, width, this.rpn.strides[level]!, cellAnchors(this.rpn.anchorSizes[level]!, this.rpn.aspectRatios), this.rpn.anchorOffset);
      this.cache.set(key, a);
    }
    return a;
  }
}

/**
 * Test-time proposals: per level top-k objectness, decode against the anchors, drop non-finite, clip to
 * `imageSize` `[h, w]`, drop boxes not wider/taller than `minSize`, NMS per level, keep `postNmsTopK`.
 * `logits[l]` `[H_l·W_l·A]`, `deltas[l]` `[H_l·W_l·A·4]` (NHWC flattened), `sizes[l] = [H_l, W_l]`.
 */
export function proposeBoxes(
  rpn: PipelineSpec['rpn'],
  anchors: AnchorCache,
  logits: readonly Float32Array[],
  deltas: readonly Float32Array[],
  sizes: readonly (readonly [number, number])[],
  imageSize: readonly [number, number],
): Proposals {
  const boxes: Float32Array[] = [];
  const scores: Float32Array[] = [];
  const levels: number[] = [];
  logits.forEach((lg, l) => {
    const [h, w] = sizes[l]!;
    const idx = topK(lg, Math.min(rpn.preNmsTopK, lg.length));
    boxes.push(applyDeltas(gatherBoxes(deltas[l]!, idx), gatherBoxes(anchors.get(l, h, w), idx), [1, 1, 1, 1]));
    scores.push(gather(lg, idx));
    for (let i = 0; i < idx.length; i++) levels.push(l);
  });
  const all = concat(boxes);
  const sc = concat(scores);
  const keep: number[] = [];
  for (let i = 0; i < sc.length; i++) {
    if (Number.isFinite(sc[i]!) && Number.isFinite(all[4 * i]!) && Number.isFinite(all[4 * i + 1]!) && Number.isFinite(all[4 * i + 2]!) && Number.isFinite(all[4 * i + 3]!)) keep.push(i);
  }
  let b = keep.length === sc.length ? all : gatherBoxes(all, keep);
  let s = keep.length === sc.length ? sc : gather(sc, keep);
  let lv = Int32Array.from(keep, (i) => levels[i]!);
  clipBoxes(b, imageSize[0], imageSize[1]);
  const big: number[] = [];
  for (let i = 0; i < s.length; i++) if (b[4 * i + 2]! - b[4 * i]! > rpn.minSize && b[4 * i + 3]! - b[4 * i + 1]! > rpn.minSize) big.push(i);
  if (big.length !== s.length) [b, s, lv] = [gatherBoxes(b, big), gather(s, big), Int32Array.from(big, (i) => lv[i]!)];
  const kept = batchedNms(b, s, lv, rpn.nmsThresh).subarray(0, rpn.postNmsTopK);
  return { boxes: gatherBoxes(b, kept), logits: gather(s, kept) };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
