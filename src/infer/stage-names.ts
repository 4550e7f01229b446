// Names shared by the stage exporter and the pipeline (no imports: the browser page uses them too).

export const STAGES = ['body', 'boxHead', 'densepose'] as const;
export type StageName = (typeof STAGES)[number];

/** FPN levels the body outputs, finest first (p2..p6; the box and DensePose poolers use p2..p5). */
export const LEVELS = ['p2', 'p3', 'p4', 'p5', 'p6'] as const;

/** Graph output names of the body stage. */
export const BODY_OUTPUTS = {
  levels: LEVELS,
  logits: LEVELS.map((l) => `rpn_logits_${l.slice(1)}`),
  deltas: LEVELS.map((l) => `rpn_deltas_${l.slice(1)}`),
  /** The decoder's fused stride-4 map, present when the model has a decoder. */
  dpFeatures: 'dp_features',
} as const;

export const BOX_HEAD_OUTPUTS = ['cls_logits', 'bbox_deltas'] as const;
export const DENSEPOSE_OUTPUTS = ['coarse_segm', 'fine_segm', 'u', 'v'] as const;
