// The tfjs fallback: the same stages as the ONNX graphs, executed by the modules on tfjs, so the
// pipeline (proposals, pooling, NMS, post-processing) is shared and the two backends can be compared.
import * as tf from '@tensorflow/tfjs-core';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { CONFIDENCE_HEADS, type ConfidenceHeadName } from '../model/densepose/confidence.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';
import type { StageRunner } from './pipeline.ts';
import { BODY_OUTPUTS, BOX_HEAD_OUTPUTS, DENSEPOSE_OUTPUTS, LEVELS, type StageName } from './stage-names.ts';
import type { StageTensor } from './types.ts';

/** Stage runner on the current tfjs backend. Every tensor it makes is freed before `run` resolves. */
export function createTfjsStageRunner(rcnn: DensePoseRcnn, options: { disposeModel?: boolean } = {}): StageRunner {
  const { model, densepose } = rcnn;
  const ex = new TfExecutor();
  const build: Record<StageName, (x: tf.Tensor) => Record<string, tf.Tensor>> = {
    body: (x) => {
      const f = model.backbone.forward<tf.Tensor>(ex, x);
      const levels = LEVELS.map((l) => f[l]);
      const head = model.proposal_generator.rpn_head.forward(ex, levels);
      const out: Record<string, tf.Tensor> = {};
      levels.forEach((t, i) => (out[BODY_OUTPUTS.levels[i]!] = t));
      head.logits.forEach((t, i) => (out[BODY_OUTPUTS.logits[i]!] = t));
      head.deltas.forEach((t, i) => (out[BODY_OUTPUTS.deltas[i]!] = t));
      if (densepose.decoder) out[BODY_OUTPUTS.dpFeatures] = densepose.decoder.forward(ex, levels.slice(0, 4));
      return out;
    },
    boxHead: (x) => {
      const pred = model.roi_heads.box_predictor.forward(ex, model.roi_heads.box_head.forward(ex, x));
      return { [BOX_HEAD_OUTPUTS[0]]: pred.scores, [BOX_HEAD_OUTPUTS[1]]: pred.deltas };
    },
    densepose: (x) => {
      const o = densepose.forwardHead(ex, x);
      const out: Record<string, tf.Tensor> = { [DENSEPOSE_OUTPUTS[0]]: o.coarseSegm, [DENSEPOSE_OUTPUTS[1]]: o.fineSegm, [DENSEPOSE_OUTPUTS[2]]: o.u, [DENSEPOSE_OUTPUTS[3]]: o.v };
      for (const [name, t] of Object.entries(o.confidences ?? {})) out[CONFIDENCE_HEADS[name as ConfidenceHeadName]] = t;
      return out;
    },
  };
  const inputName: Record<StageName, string> = { body: 'image', boxHead: 'pooled', densepose: 'pooled' };
  return {
    async run(stage, feeds) {
      const feed = feeds[inputName[stage]]!;
      const out = tf.tidy(() => build[stage](tf.tensor(feed.data, [...feed.shape], 'float32')));
      try {
        const names = Object.keys(out);
        const data = await Promise.all(names.map((n) => out[n]!.data() as Promise<Float32Array>));
        const result: Record<string, StageTensor> = {};
        names.forEach((n, i) => (result[n] = { data: data[i]!, shape: out[n]!.shape }));
        return result;
      } finally {
        tf.dispose(Object.values(out));
      }
    },
    async dispose() {
      if (options.disposeModel ?? true) model.dispose();
    },
  };
}
