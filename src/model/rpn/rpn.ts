import type { Executor } from '../../runtime/executor.ts';
import { Conv2d } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
import type { RpnOptions, RpnTopK } from '../config.ts';
import { AnchorCache } from './anchors.ts';
import { selectProposals, type Proposals } from './select-proposals.ts';

export const RPN_DEFAULTS = {
  anchorSizes: [32, 64, 128, 256, 512],
  aspectRatios: [0.5, 1, 2],
  anchorOffset: 0,
  nmsThresh: 0.7,
  minSize: 0,
  train: { preNmsTopK: 2000, postNmsTopK: 1000 },
  test: { preNmsTopK: 1000, postNmsTopK: 1000 },
  iouThresholds: [0.3, 0.7],
  batchSizePerImage: 256,
  positiveFraction: 0.5,
  smoothL1Beta: 0,
  lossWeight: 1,
} as const satisfies Required<RpnOptions>;

/** Per level: objectness logits `[N,H,W,A]` and deltas `[N,H,W,4A]` (NHWC; flattening gives detectron2's order). */
export interface RpnHeadOutput<T> {
  logits: T[];
  deltas: T[];
}

/** detectron2 `StandardRPNHead` (`rpn_head.conv`, `objectness_logits`, `anchor_deltas`), shared by all levels. */
export class RpnHead extends Module {
  readonly conv: Conv2d;
  readonly objectness_logits: Conv2d;
  readonly anchor_deltas: Conv2d;
  constructor(channels: number, anchorsPerCell: number) {
    super();
    this.conv = this.addModule('conv', new Conv2d({ inChannels: channels, outChannels: channels, kernel: 3, padding: 1, init: 'normal001' }));
    this.objectness_logits = this.addModule('objectness_logits', new Conv2d({ inChannels: channels, outChannels: anchorsPerCell, kernel: 1, init: 'normal001' }));
    this.anchor_deltas = this.addModule('anchor_deltas', new Conv2d({ inChannels: channels, outChannels: anchorsPerCell * 4, kernel: 1, init: 'normal001' }));
  }
  forward<T>(ex: Executor<T>, features: readonly T[]): RpnHeadOutput<T> {
    const out: RpnHeadOutput<T> = { logits: [], deltas: [] };
    for (const f of features) {
      const t = ex.relu(this.conv.forward(ex, f));
      out.logits.push(this.objectness_logits.forward(ex, t));
      out.deltas.push(this.anchor_deltas.forward(ex, t));
    }
    return out;
  }
}

export type { Proposals } from './select-proposals.ts';

/**
 * detectron2 `RPN` (`proposal_generator`): head, anchors, and `find_top_rpn_proposals`
 * (per-level top-k → clip → drop empty → per-level NMS → post-NMS top-k).
 */
export class Rpn extends Module {
  readonly rpn_head: RpnHead;
  readonly options: Required<RpnOptions>;
  readonly strides: readonly number[];
  private readonly anchorCache: AnchorCache;
  constructor(channels: number, options: RpnOptions = {}, strides: readonly number[] = [4, 8, 16, 32, 64]) {
    super();
    this.options = { ...RPN_DEFAULTS, ...options };
    this.strides = strides;
    this.rpn_head = this.addModule('rpn_head', new RpnHead(channels, this.options.aspectRatios.length));
    this.anchorCache = new AnchorCache({ ...this.options, strides });
  }

  /** Anchors `[H·W·A, 4]` of level `level` for a `height × width` map. */
  anchors(level: number, height: number, width: number): Float32Array {
    return this.anchorCache.get(level, height, width);
  }

  /**
   * Proposals from the head's outputs of one image, read back as arrays: `logits[l]` `[H_l·W_l·A]`,
   * `deltas[l]` `[H_l·W_l·A·4]`, `sizes[l] = [H_l, W_l]`; `imageSize` = unpadded `[h, w]`.
   */
  propose(logits: readonly Float32Array[], deltas: readonly Float32Array[], sizes: readonly (readonly [number, number])[], imageSize: readonly [number, number], mode: 'train' | 'test' = 'test'): Proposals {
    const topk: RpnTopK = this.options[mode];
    return selectProposals((l, h, w) => this.anchors(l, h, w), logits, deltas, sizes, imageSize, {
      ...topk,
      nmsThresh: this.options.nmsThresh,
      minSize: this.options.minSize,
    });
  }
}
