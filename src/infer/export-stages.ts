// The model as three ONNX graphs with the dynamic work (proposals, RoIAlign, NMS, chart
// post-processing) in TS between them: body (backbone+FPN+RPN convs, and the DensePose decoder),
// box head, DensePose head+predictor.
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { CONFIDENCE_HEADS, confidenceHeadNames } from '../model/densepose/confidence.ts';
import { exportOnnx } from '../runtime/onnx/export.ts';
import type { OnnxValue } from '../runtime/onnx/onnx-executor.ts';
import { BODY_OUTPUTS, BOX_HEAD_OUTPUTS, DENSEPOSE_OUTPUTS, LEVELS, type StageName } from './stage-names.ts';

/** ModelProto bytes of each stage. */
export type StageGraphs = Record<StageName, Uint8Array>;

/**
 * Export the three stages of `rcnn` (weights included, FrozenBN folded):
 * - `body`: `image` `[N,H,W,3]` NHWC (H, W multiples of 32) → `p2..p6` `[N,H_l,W_l,C]`, `rpn_logits_l` `[N,H_l,W_l,A]`,
 *   `rpn_deltas_l` `[N,H_l,W_l,4A]`, and `dp_features` `[N,H/4,W/4,C']` with a decoder;
 * - `boxHead`: `pooled` `[R,r,r,C]` → `cls_logits` `[R,K+1]`, `bbox_deltas` `[R,4M]`;
 * - `densepose`: `pooled` `[K,h,w,C']` → `coarse_segm`, `fine_segm`, `u`, `v` `[K,Hout,Wout,·]` NHWC, then the
 *   raw confidence maps the model has (`sigma_2`, `kappa_u`, `kappa_v`, `fine_segm_confidence`, `coarse_segm_confidence`).
 */
export function exportStages(rcnn: DensePoseRcnn): StageGraphs {
  const { model, densepose } = rcnn;
  const decoder = densepose.decoder;
  const name = model.config.name ?? 'densepose';
  const body = exportOnnx(
    model,
    (ex, [x]) => {
      const f = model.backbone.forward<OnnxValue>(ex, x!);
      const levels = LEVELS.map((l) => f[l]);
      const head = model.proposal_generator.rpn_head.forward(ex, levels);
      const out = [...levels, ...head.logits, ...head.deltas];
      if (decoder) out.push(decoder.forward(ex, levels.slice(0, 4)));
      return out;
    },
    {
      inputs: [{ name: 'image', shape: [-1, -1, -1, 3] }],
      outputNames: [...BODY_OUTPUTS.levels, ...BODY_OUTPUTS.logits, ...BODY_OUTPUTS.deltas, ...(decoder ? [BODY_OUTPUTS.dpFeatures] : [])],
      docString: `${name}: backbone + FPN + RPN head${decoder ? ' + DensePose decoder' : ''}`,
    },
  );
  const r = model.roi_heads.options.poolerResolution;
  const boxHead = exportOnnx(
    model,
    (ex, [x]) => {
      const pred = model.roi_heads.box_predictor.forward(ex, model.roi_heads.box_head.forward(ex, x!));
      return [pred.scores, pred.deltas];
    },
    { inputs: [{ name: 'pooled', shape: [-1, r, r, model.backbone.outChannels] }], outputNames: [...BOX_HEAD_OUTPUTS], docString: `${name}: box head` },
  );
  const [ph, pw] = densepose.config.poolerResolution;
  const dpChannels = decoder ? densepose.config.decoderNumClasses : densepose.config.inChannels;
  const confidences = confidenceHeadNames(densepose.config.uvConfidence, densepose.config.segmConfidence);
  const dp = exportOnnx(
    model,
    (ex, [x]) => {
      const o = densepose.forwardHead(ex, x!);
      return [o.coarseSegm, o.fineSegm, o.u, o.v, ...confidences.map((n) => o.confidences![n]!)];
    },
    { inputs: [{ name: 'pooled', shape: [-1, ph, pw, dpChannels] }], outputNames: [...DENSEPOSE_OUTPUTS, ...confidences.map((n) => CONFIDENCE_HEADS[n])], docString: `${name}: DensePose head + chart predictor` },
  );
  return { body, boxHead, densepose: dp };
}
