// The model's inference stages, defined once: each has named inputs (NHWC, dynamic dims -1), named
// outputs and a forward written against `Executor<T>`. The ONNX export (export-stages.ts) traces the
// forwards with the ONNX executor; the tfjs runner (tfjs-runner.ts) runs the same forwards on tfjs.
// The dynamic work between stages (proposals, RoIAlign, NMS, chart post-processing) is pipeline.ts.
import { CONFIDENCE_HEADS, confidenceHeadNames } from '../model/densepose/confidence.ts';
import type { DensePoseBranch } from '../model/densepose/branch.ts';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import type { Executor } from '../runtime/executor.ts';
import { BODY_OUTPUTS, BOX_HEAD_OUTPUTS, DENSEPOSE_OUTPUTS, LEVELS, type StageName } from './stage-names.ts';

/** One input of a stage: name and NHWC shape (-1 = dynamic). */
export interface StageInput {
  name: string;
  shape: number[];
}

/** A stage of a built model: its inputs, its outputs (in order) and its forward on any executor. */
export interface StageDefinition {
  name: StageName;
  /** What the stage computes (the ONNX graph's doc string). */
  doc: string;
  inputs: StageInput[];
  outputs: string[];
  /** `inputs` in order → `outputs` in order. */
  forward<T>(ex: Executor<T>, inputs: T[]): T[];
}

/**
 * The three stages of `rcnn`:
 * - `body`: `image` `[N,H,W,3]` (H, W multiples of the size divisibility) → `p2..p6` `[N,H_l,W_l,C]`,
 *   `rpn_logits_l` `[N,H_l,W_l,A]`, `rpn_deltas_l` `[N,H_l,W_l,4A]`, and `dp_features` `[N,H/4,W/4,C']` with a decoder;
 * - `boxHead`: `pooled` `[R,r,r,C]` → `cls_logits` `[R,K+1]`, `bbox_deltas` `[R,4M]`;
 * - `densepose`: `pooled` `[K,h,w,C']` → `coarse_segm`, `fine_segm`, `u`, `v` `[K,Hout,Wout,·]`, then the raw
 *   confidence maps the model has (`sigma_2`, `kappa_u`, `kappa_v`, `fine_segm_confidence`, `coarse_segm_confidence`).
 */
export function stageDefinitions(rcnn: DensePoseRcnn): Record<StageName, StageDefinition> {
  const { model, densepose } = rcnn;
  const decoder = densepose.decoder;
  const name = model.config.name ?? 'densepose';
  const r = model.roi_heads.options.poolerResolution;
  return {
    body: {
      name: 'body',
      doc: `${name}: backbone + FPN + RPN head${decoder ? ' + DensePose decoder' : ''}`,
      inputs: [{ name: 'image', shape: [-1, -1, -1, 3] }],
      outputs: [...BODY_OUTPUTS.levels, ...BODY_OUTPUTS.logits, ...BODY_OUTPUTS.deltas, ...(decoder ? [BODY_OUTPUTS.dpFeatures] : [])],
      forward<T>(ex: Executor<T>, [x]: T[]): T[] {
        const f = model.backbone.forward<T>(ex, x!);
        const levels = LEVELS.map((l) => f[l]);
        const head = model.proposal_generator.rpn_head.forward(ex, levels);
        const out = [...levels, ...head.logits, ...head.deltas];
        if (decoder) out.push(decoder.forward(ex, levels.slice(0, 4)));
        return out;
      },
    },
    boxHead: {
      name: 'boxHead',
      doc: `${name}: box head`,
      inputs: [{ name: 'pooled', shape: [-1, r, r, model.backbone.outChannels] }],
      outputs: [...BOX_HEAD_OUTPUTS],
      forward<T>(ex: Executor<T>, [x]: T[]): T[] {
        const pred = model.roi_heads.box_predictor.forward(ex, model.roi_heads.box_head.forward(ex, x!));
        return [pred.scores, pred.deltas];
      },
    },
    densepose: densePoseStage(densepose, name),
  };
}

/**
 * The `densepose` stage of a DensePose branch: `pooled` `[K,h,w,C']` → `coarse_segm`, `fine_segm`, `u`, `v`
 * `[K,Hout,Wout,·]`, then the branch's raw confidence maps. (Exported alone for head benchmarks and tests.)
 */
export function densePoseStage(densepose: DensePoseBranch, modelName = 'densepose'): StageDefinition {
  const c = densepose.config;
  const [ph, pw] = c.poolerResolution;
  const channels = densepose.decoder ? c.decoderNumClasses : c.inChannels;
  const confidences = confidenceHeadNames(c.uvConfidence, c.segmConfidence);
  return {
    name: 'densepose',
    doc: `${modelName}: DensePose head + chart predictor`,
    inputs: [{ name: 'pooled', shape: [-1, ph, pw, channels] }],
    outputs: [...DENSEPOSE_OUTPUTS, ...confidences.map((n) => CONFIDENCE_HEADS[n])],
    forward<T>(ex: Executor<T>, [x]: T[]): T[] {
      const o = densepose.forwardHead(ex, x!);
      return [o.coarseSegm, o.fineSegm, o.u, o.v, ...confidences.map((n) => o.confidences![n]!)];
    },
  };
}
