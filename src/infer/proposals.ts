// detectron2's `find_top_rpn_proposals` for one image from the body stage's outputs, driven by the
// JSON spec instead of the `Rpn` module (so no tfjs parameters are needed to run it).
import type { AnchorCache } from '../model/rpn/anchors.ts';
import { selectProposals, type Proposals } from '../model/rpn/select-proposals.ts';
import type { PipelineSpec } from './spec.ts';

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
  return selectProposals((l, h, w) => anchors.get(l, h, w), logits, deltas, sizes, imageSize, rpn);
}
