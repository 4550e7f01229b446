import { FPN_LEVELS } from '../../model/backbone/fpn.ts';
import type { DensePoseRcnn } from '../../model/densepose-rcnn.ts';
import { LossOps } from '../../runtime/onnx/autodiff/loss-ops.ts';
import { buildSplitTrainStage, buildTrainStage, type TrainStage, type TrainStageSpec } from '../../runtime/onnx/autodiff/train-graph.ts';
import type { OnnxValue } from '../../runtime/onnx/onnx-executor.ts';

/** Mode of the staged step: as `RcnnTrainOptions.mode`. */
export type StagedMode = 'end2end' | 'head';

/** FPN levels the box head and (without a decoder) the DensePose head pool from. */
export const POOLED_LEVELS = ['p2', 'p3', 'p4', 'p5'] as const;
export const DECODER_OUT = 'decoder_out';

export const rpnInputNames = (level: string) => ({
  label: `rpn_label_${level}`,
  clsWeight: `rpn_cls_w_${level}`,
  locTarget: `rpn_loc_t_${level}`,
  locWeight: `rpn_loc_w_${level}`,
});

/**
 * How the body's backward gets the forward activations it needs: `keep` — the forward stage outputs them and
 * the backward stage takes them as inputs; `recompute` — the backward stage runs the body forward again.
 */
export const BODY_ACTIVATIONS = ['keep', 'recompute'] as const;
export type BodyActivations = (typeof BODY_ACTIVATIONS)[number];

/** The four graphs of a staged training step (see `OnnxRcnnTrainer`). */
export interface TrainStages {
  /** Forward: `image` → FPN maps, RPN outputs (end2end), decoder map (+ the saved activations with `keep`). */
  body: TrainStage;
  /** RPN losses + seeds from the heads (+ saved activations, or the forward again) → parameter gradients. */
  bodyGrad: TrainStage;
  /** Box head: `pooled` `[R,r,r,C]` + targets → losses, gradients, dL/d(pooled). Null in head mode. */
  boxHead: TrainStage | null;
  /** DensePose head + predictor: `pooled` + targets → losses, gradients, dL/d(pooled). */
  densePose: TrainStage;
}

/** Names of the stage outputs the heads pool from (and send gradients back to). */
export function pooledMapNames(rcnn: DensePoseRcnn, mode: StagedMode): { box: readonly string[]; densePose: readonly string[] } {
  return { box: mode === 'end2end' ? POOLED_LEVELS : [], densePose: rcnn.densepose.decoder ? [DECODER_OUT] : POOLED_LEVELS };
}

/**
 * Emit the training stages of a DensePose R-CNN from its one model definition (the same forward the
 * inference export traces), with losses as LossOps over host-made dense targets.
 */
export function buildTrainStages(rcnn: DensePoseRcnn, mode: StagedMode, activations: BodyActivations = 'keep'): TrainStages {
  const { model, densepose } = rcnn;
  const maps = pooledMapNames(rcnn, mode);
  const seededNames = [...new Set([...maps.box, ...maps.densePose])];
  const numAnchors = model.proposal_generator.options.aspectRatios.length;

  // withGrad: losses and seeds (the gradient graph); withOutputs: the RPN outputs the host samples from.
  const body = (withGrad: boolean, withOutputs: boolean): TrainStageSpec => ({
      root: model,
      inputs: [{ name: 'image', shape: [1, -1, -1, 3] }],
      gradients: withGrad,
      docString: withGrad ? 'training: body forward + RPN losses + head seeds → gradients' : 'training: body forward',
      build(ex, [x]) {
        const f = model.backbone.forward<OnnxValue>(ex, x!);
        const levels = FPN_LEVELS.map((l) => f[l]);
        const named: Record<string, OnnxValue> = { p2: f.p2, p3: f.p3, p4: f.p4, p5: f.p5 };
        if (densepose.decoder) named[DECODER_OUT] = densepose.decoder.forward(ex, levels.slice(0, 4));
        const losses: Record<string, string> = {};
        const outputs: Record<string, OnnxValue> = {};
        if (mode === 'end2end') {
          const head = model.proposal_generator.rpn_head.forward(ex, levels);
          if (withGrad) {
            const ops = new LossOps(ex.graph);
            const cls: string[] = [];
            const loc: string[] = [];
            FPN_LEVELS.forEach((l, i) => {
              const n = rpnInputNames(l);
              const logits = head.logits[i]!;
              const deltas = head.deltas[i]!;
              const label = ex.input(n.label, [1, -1, -1, numAnchors]);
              const clsW = ex.input(n.clsWeight, [1, -1, -1, numAnchors]);
              const locT = ex.input(n.locTarget, [1, -1, -1, 4 * numAnchors]);
              const locW = ex.input(n.locWeight, [1, -1, -1, 4 * numAnchors]);
              cls.push(ops.bceWithLogits(logits.name, label.name, clsW.name, logits.dims));
              loc.push(ops.smoothL1(deltas.name, locT.name, locW.name, deltas.dims, 0));
            });
            losses.loss_rpn_cls = cls.reduce((a, b) => ops.add(a, b));
            losses.loss_rpn_loc = loc.reduce((a, b) => ops.add(a, b));
          }
          if (withOutputs) {
            FPN_LEVELS.forEach((l, i) => {
              outputs[`rpn_logits_${l.slice(1)}`] = head.logits[i]!;
              outputs[`rpn_deltas_${l.slice(1)}`] = head.deltas[i]!;
            });
          }
        }
        if (!withGrad) return { outputs: { ...outputs, ...Object.fromEntries(seededNames.map((n) => [n, named[n]!])) } };
        return { losses, outputs, seeded: Object.fromEntries(seededNames.map((n) => [n, named[n]!])) };
      },
    });
  let bodyStages: { body: TrainStage; bodyGrad: TrainStage };
  if (activations === 'keep') {
    const split = buildSplitTrainStage(body(true, true));
    bodyStages = { body: split.forward, bodyGrad: split.backward };
  } else {
    bodyStages = { body: buildTrainStage(body(false, true)), bodyGrad: buildTrainStage(body(true, false)) };
  }

  const rh = model.roi_heads;
  const r = rh.options.poolerResolution;
  const channels = model.backbone.outChannels;
  const boxHead =
    mode === 'end2end'
      ? buildTrainStage({
          root: model,
          inputs: [{ name: 'pooled', shape: [-1, r, r, channels] }],
          inputGradients: ['pooled'],
          docString: 'training: box head + losses → gradients',
          build(ex, [x], host) {
            const pred = rh.box_predictor.forward(ex, rh.box_head.forward(ex, x!));
            const ops = new LossOps(ex.graph);
            const k1 = pred.scores.dims[1]!;
            const m4 = pred.deltas.dims[1]!;
            const clsW = host.tensor('box_cls_w', [-1, k1]);
            const locT = host.tensor('box_loc_t', [-1, m4]);
            const locW = host.tensor('box_loc_w', [-1, m4]);
            return {
              losses: {
                loss_cls: ops.crossEntropy(pred.scores.name, clsW, [-1, k1]),
                loss_box_reg: ops.smoothL1(pred.deltas.name, locT, locW, [-1, m4], 0),
              },
            };
          },
        })
      : null;

  const c = densepose.config;
  const [ph, pw] = c.poolerResolution;
  const inC = densepose.decoder ? c.decoderNumClasses : c.inChannels;
  const [oh, ow] = densepose.outputSize;
  const s = c.numCoarseSegmChannels;
  const p = c.numPatches + 1;
  const densePose = buildTrainStage({
    root: model,
    inputs: [{ name: 'pooled', shape: [-1, ph, pw, inC] }],
    inputGradients: ['pooled'],
    docString: 'training: DensePose head + predictor + chart losses → gradients',
    build(ex, [x], host) {
      const o = densepose.forwardHead(ex, x!);
      const ops = new LossOps(ex.graph);
      const g = ex.graph;
      // S: weighted CE over every cell (weights: one-hot of the warped mask × 1/count × loss weight).
      const sW = ex.input('dp_s_w', [-1, oh, ow, s]);
      g.setDims(sW.name, sW.dims);
      const lossS = ops.crossEntropy(o.coarseSegm.name, sW.name, o.coarseSegm.dims);
      // I: bilinear taps of the fine segmentation at the annotated points.
      const iCells = host.tensor('dp_i_cells', [-1], 'int64');
      const iTaps = host.tensor('dp_i_taps', [-1, 4, 1]);
      const iW = host.tensor('dp_i_w', [-1, p]);
      const fineAtPoints = ops.taps(ops.rowsNhwc(o.fineSegm), iCells, iTaps, p);
      const lossI = ops.crossEntropy(fineAtPoints, iW, [-1, p]);
      // U, V: the GT chart's channel at the foreground points (cells index the flattened NHWC output).
      const uvCells = host.tensor('dp_uv_cells', [-1], 'int64');
      const uvTaps = host.tensor('dp_uv_taps', [-1, 4, 1]);
      const uvW = host.tensor('dp_uv_w', [-1, 1]);
      const scalarRows = (v: OnnxValue) => g.setDims(g.op('Reshape', [ops.rowsNhwc(v), g.constInt64([-1, 1])]), [-1, 1]);
      const uAt = ops.taps(scalarRows(o.u), uvCells, uvTaps, 1);
      const vAt = ops.taps(scalarRows(o.v), uvCells, uvTaps, 1);
      const lossU = ops.smoothL1(uAt, host.tensor('dp_u_t', [-1, 1]), uvW, [-1, 1], 1);
      const lossV = ops.smoothL1(vAt, host.tensor('dp_v_t', [-1, 1]), uvW, [-1, 1], 1);
      return { losses: { loss_densepose_S: lossS, loss_densepose_I: lossI, loss_densepose_U: lossU, loss_densepose_V: lossV } };
    },
  });

  return { ...bodyStages, boxHead, densePose };
}
