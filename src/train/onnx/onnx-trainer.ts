import * as tf from '@tensorflow/tfjs-core';
import { FPN_LEVELS } from '../../model/backbone/fpn.ts';
import type { DensePoseRcnn } from '../../model/densepose-rcnn.ts';
import { rpnTargets, sampleRois, type RoiSamples } from '../../model/losses.ts';
import { preprocessImage } from '../../model/preprocess.ts';
import { BOX_POOLER_SCALES } from '../../model/roi-heads/roi-heads.ts';
import { roiAlignArrays, roiAlignBackwardArrays, roiAlignMultiLevelArrays, roiAlignMultiLevelBackwardArrays } from '../../model/roi-align.ts';
import { concatArrays } from '../../model/rpn/select-proposals.ts';
import type { Module } from '../../runtime/module.ts';
import { parameterFeed, StageSession, type StageRunResult } from '../../runtime/onnx/autodiff/stage-session.ts';
import { SEED_PREFIX } from '../../runtime/onnx/autodiff/train-graph.ts';
import type { OnnxTensor, SessionOptions } from '../../runtime/onnx/session.ts';
import type { DensePoseRois, RcnnTrainOptions } from '../rcnn-trainable.ts';
import { groundTruthDensePoseRois, selectDensePoseRois, xyxy } from '../rcnn-trainable.ts';
import { Rng } from '../random.ts';
import type { TrainSample } from '../sample.ts';
import { buildTrainStages, pooledMapNames, rpnInputNames, type BodyActivations, type TrainStages } from './stages.ts';
import { boxHeadTargets, DensePoseTargetBuilder, rpnLevelTargets } from './targets.ts';

/** Losses and parameter gradients of one batch (by parameter name, our layouts). */
export interface BatchGradients {
  losses: Record<string, number>;
  grads: Map<string, Float32Array>;
  /** Seconds spent per part of the step (ORT runs per stage, host work). */
  timings: Record<string, number>;
}

/** A model the loop trains from gradients it computes itself (the ONNX Runtime engine). */
export interface GradientTrainable {
  readonly module: Module;
  gradients(batch: TrainSample[], iteration: number): Promise<BatchGradients>;
  dispose(): Promise<void>;
}

type Shape4 = [number, number, number, number];

interface ImageState {
  image: OnnxTensor;
  maps: Record<string, OnnxTensor>;
  rpnFeeds: Record<string, OnnxTensor>;
  boxRois: Float32Array;
  samples: RoiSamples | null;
  dp: DensePoseRois;
  datasetWeight: number;
}

/**
 * The staged training step on ONNX Runtime, with the data-dependent work on the host as inference does:
 * 1. body forward per image (backbone, FPN, RPN head, decoder);
 * 2. host: anchor targets, proposals, RoI sampling, RoIAlign of box and DensePose RoIs (`roi-align.ts`);
 * 3. box head and DensePose head stages, all images' RoIs in one run: losses, parameter gradients, dL/d(pooled);
 * 4. host: RoIAlign backward into gradients of the pooled maps;
 * 5. body backward stage with the RPN losses and those gradients as seeds → body gradients; it reads the
 *    activations step 1 saved (`activations: 'keep'`, the default) or runs the body forward again ('recompute').
 * Random choices follow `rcnnTrainable` call for call, so both engines see the same samples.
 */
export class OnnxRcnnTrainer implements GradientTrainable {
  readonly module: Module;
  private stages: TrainStages | undefined;
  private sessions: { body: StageSession; bodyGrad: StageSession; boxHead: StageSession | null; densePose: StageSession } | undefined;

  constructor(
    private readonly rcnn: DensePoseRcnn,
    private readonly options: RcnnTrainOptions,
    private readonly sessionOptions: SessionOptions = {},
    private readonly engine: { activations?: BodyActivations } = {},
  ) {
    this.module = rcnn.model;
  }

  /** Build graphs and sessions (after weights are loaded: frozen parameters are baked in as constants). */
  private async open(): Promise<NonNullable<OnnxRcnnTrainer['sessions']>> {
    if (this.sessions) return this.sessions;
    this.stages = buildTrainStages(this.rcnn, this.options.mode, this.engine.activations ?? 'keep');
    // Parked (not spinning) intra-op threads unless asked: a step is thousands of short kernels, and spinning
    // threads starve everything else on a shared machine.
    const open = (s: TrainStages['body']) => StageSession.create(s, { spinning: false, ...this.sessionOptions });
    this.sessions = {
      body: await open(this.stages.body),
      bodyGrad: await open(this.stages.bodyGrad),
      boxHead: this.stages.boxHead ? await open(this.stages.boxHead) : null,
      densePose: await open(this.stages.densePose),
    };
    return this.sessions;
  }

  async gradients(batch: TrainSample[], iteration: number): Promise<BatchGradients> {
    const sessions = await this.open();
    const timings: Record<string, number> = {};
    const time = async <R>(key: string, f: () => R | Promise<R>): Promise<R> => {
      const t0 = performance.now();
      const r = await f();
      timings[key] = (timings[key] ?? 0) + (performance.now() - t0) / 1000;
      return r;
    };
    const { model, densepose } = this.rcnn;
    const mode = this.options.mode;
    const n = Math.max(batch.length, 1);
    const input = this.rcnn.config.input ?? {};
    const rh = model.roi_heads;
    const rpn = model.proposal_generator;
    const numAnchors = rpn.options.aspectRatios.length;
    const maps = pooledMapNames(this.rcnn, mode);
    const paramFeeds = new Map<string, OnnxTensor>();
    await time('host_parameter_feeds', () => {
      for (const s of Object.values(sessions)) {
        if (!s) continue;
        for (const [name, input] of s.stage.parameterInputs) if (!paramFeeds.has(name)) paramFeeds.set(name, parameterFeed(input));
      }
    });

    // 1–2: body forward and host work per image.
    const states: ImageState[] = [];
    for (let slot = 0; slot < batch.length; slot++) {
      const s = batch[slot]!;
      const rng = Rng.forKeys(this.options.seed, iteration, slot, 0x5a3);
      const rand = () => rng.next();
      const { image, imageSize } = await time('host_preprocess', () => {
        const prepared = preprocessImage(s.image, s.height, s.width, { ...input, resize: false });
        const data = prepared.tensor.dataSync() as Float32Array;
        const shape = prepared.tensor.shape;
        prepared.tensor.dispose();
        return { image: { data, shape } as OnnxTensor, imageSize: prepared.imageSize };
      });
      const fwd = await time('ort_body_forward', () => sessions.body.run({ image }, paramFeeds));
      const people = s.people.filter((p) => !p.iscrowd);
      const gt = xyxy(people);
      const state: ImageState = {
        image,
        maps: fwd.outputs,
        rpnFeeds: {},
        boxRois: new Float32Array(0),
        samples: null,
        dp: { boxes: new Float32Array(0), targets: [] },
        datasetWeight: this.options.datasetLossWeights?.[s.datasetIndex] ?? 1,
      };
      await time('host_sampling', () => {
        if (mode === 'end2end') {
          const sizes = FPN_LEVELS.map((l) => [fwd.outputs[`rpn_logits_${l.slice(1)}`]!.shape[1]!, fwd.outputs[`rpn_logits_${l.slice(1)}`]!.shape[2]!] as const);
          const anchors = concatArrays(sizes.map(([h, w], l) => rpn.anchors(l, h, w)));
          const batchSize = this.options.rpnBatchSize ?? 256;
          const rpnT = rpnTargets(anchors, gt, rand, { batchSizePerImage: batchSize });
          rpnLevelTargets(rpnT, sizes, numAnchors, 1 / (batchSize * n)).forEach((t, i) => {
            const names = rpnInputNames(FPN_LEVELS[i]!);
            Object.assign(state.rpnFeeds, { [names.label]: t.label, [names.clsWeight]: t.clsWeight, [names.locTarget]: t.locTarget, [names.locWeight]: t.locWeight });
          });
          const proposals = rpn.propose(
            FPN_LEVELS.map((l) => fwd.outputs[`rpn_logits_${l.slice(1)}`]!.data as Float32Array),
            FPN_LEVELS.map((l) => fwd.outputs[`rpn_deltas_${l.slice(1)}`]!.data as Float32Array),
            sizes,
            imageSize,
            'train',
          );
          const samples = sampleRois(proposals.boxes, gt, new Int32Array(people.length), rand, {
            numClasses: rh.options.numClasses,
            batchSizePerImage: this.options.roiBatchSize ?? 128,
            positiveFraction: rh.options.positiveFraction,
            bboxRegWeights: rh.options.bboxRegWeights,
          });
          state.boxRois = samples.boxes;
          state.samples = samples;
          state.dp = selectDensePoseRois(samples, people, gt, this.options);
        } else {
          state.dp = groundTruthDensePoseRois(people, this.options);
        }
      });
      states.push(state);
    }

    const losses: Record<string, number> = {};
    const grads = new Map<string, Float32Array>();
    const accumulate = (r: StageRunResult) => {
      for (const [k, v] of Object.entries(r.losses)) losses[k] = (losses[k] ?? 0) + v;
      for (const [k, g] of r.grads) {
        const prev = grads.get(k);
        if (!prev) grads.set(k, g.slice());
        else for (let i = 0; i < g.length; i++) prev[i]! += g[i]!;
      }
    };
    const shape4 = (t: OnnxTensor) => t.shape as unknown as Shape4;
    const seeds = states.map((st) => new Map<string, Float32Array>([...new Set([...maps.box, ...maps.densePose])].map((m) => [m, new Float32Array(st.maps[m]!.data.length)])));
    const addInto = (dst: Float32Array, src: Float32Array) => {
      for (let i = 0; i < src.length; i++) dst[i]! += src[i]!;
    };

    // 3–4 (box head): all images' sampled RoIs in one run.
    if (sessions.boxHead) {
      const r = rh.options.poolerResolution;
      const pool = { outputSize: [r, r] as [number, number], scales: BOX_POOLER_SCALES, samplingRatio: rh.options.poolerSamplingRatio, aligned: rh.options.poolerType === 'ROIAlignV2' };
      const total = states.reduce((a, st) => a + st.boxRois.length / 4, 0);
      if (total > 0) {
        const c = states[0]!.maps.p2!.shape[3]!;
        const cell = r * r * c;
        const k1 = rh.options.numClasses + 1;
        const m4 = (rh.options.clsAgnosticBboxReg ? 1 : rh.options.numClasses) * 4;
        const pooled = new Float32Array(total * cell);
        const clsW = new Float32Array(total * k1);
        const locT = new Float32Array(total * m4);
        const locW = new Float32Array(total * m4);
        await time('host_box_roialign', () => {
          let row = 0;
          for (const st of states) {
            const k = st.boxRois.length / 4;
            if (k === 0) continue;
            const levels = maps.box.map((m) => st.maps[m]!);
            pooled.set(roiAlignMultiLevelArrays(levels.map((t) => t.data as Float32Array), levels.map(shape4), st.boxRois, pool), row * cell);
            const t = boxHeadTargets(st.samples!, rh.options.numClasses, m4, 1 / n);
            clsW.set(t.clsWeight, row * k1);
            locT.set(t.locTarget, row * m4);
            locW.set(t.locWeight, row * m4);
            row += k;
          }
        });
        const out = await time('ort_box_head', () =>
          sessions.boxHead!.run(
            { pooled: { data: pooled, shape: [total, r, r, c] }, box_cls_w: { data: clsW, shape: [total, k1] }, box_loc_t: { data: locT, shape: [total, m4] }, box_loc_w: { data: locW, shape: [total, m4] } },
            paramFeeds,
          ),
        );
        accumulate(out);
        await time('host_box_roialign_backward', () => {
          const dPooled = out.inputGrads.get('pooled')!.data as Float32Array;
          let row = 0;
          states.forEach((st, i) => {
            const k = st.boxRois.length / 4;
            if (k === 0) return;
            const levels = maps.box.map((m) => st.maps[m]!);
            const back = roiAlignMultiLevelBackwardArrays(dPooled.subarray(row * cell, (row + k) * cell), levels.map(shape4), st.boxRois, pool);
            maps.box.forEach((m, l) => addInto(seeds[i]!.get(m)!, back[l]!));
            row += k;
          });
        });
      } else {
        losses.loss_cls = (losses.loss_cls ?? 0) + 0;
        losses.loss_box_reg = (losses.loss_box_reg ?? 0) + 0;
      }
    }

    // 3–4 (DensePose head).
    const dpc = densepose.config;
    const totalDp = states.reduce((a, st) => a + st.dp.targets.length, 0);
    if (totalDp > 0) {
      const [ph, pw] = dpc.poolerResolution;
      const common = { outputSize: dpc.poolerResolution, samplingRatio: dpc.poolerSamplingRatio, aligned: dpc.poolerAligned } as const;
      const c = states[0]!.maps[maps.densePose[0]!]!.shape[3]!;
      const cell = ph * pw * c;
      const pooled = new Float32Array(totalDp * cell);
      const [oh, ow] = densepose.outputSize;
      const targets = new DensePoseTargetBuilder(oh, ow, { numCoarseSegmChannels: dpc.numCoarseSegmChannels, weights: dpc.lossWeights, numPatches: dpc.numPatches });
      const poolOne = (st: ImageState): Float32Array => {
        const levels = maps.densePose.map((m) => st.maps[m]!);
        if (levels.length === 1) return roiAlignArrays(levels[0]!.data as Float32Array, shape4(levels[0]!), st.dp.boxes, { ...common, spatialScale: 1 / dpc.featureStrides[0]! });
        return roiAlignMultiLevelArrays(levels.map((t) => t.data as Float32Array), levels.map(shape4), st.dp.boxes, { ...common, scales: dpc.featureStrides.map((s) => 1 / s) });
      };
      await time('host_densepose_roialign', () => {
        let row = 0;
        for (const st of states) {
          const k = st.dp.targets.length;
          if (k === 0) continue;
          pooled.set(poolOne(st), row * cell);
          targets.add(st.dp.boxes, st.dp.targets, st.datasetWeight / n);
          row += k;
        }
      });
      const out = await time('ort_densepose_head', () => sessions.densePose.run({ pooled: { data: pooled, shape: [totalDp, ph, pw, c] }, ...targets.feeds() }, paramFeeds));
      accumulate(out);
      await time('host_densepose_roialign_backward', () => {
        const dPooled = out.inputGrads.get('pooled')!.data as Float32Array;
        let row = 0;
        states.forEach((st, i) => {
          const k = st.dp.targets.length;
          if (k === 0) return;
          const dy = dPooled.subarray(row * cell, (row + k) * cell);
          const levels = maps.densePose.map((m) => st.maps[m]!);
          if (levels.length === 1) {
            addInto(seeds[i]!.get(maps.densePose[0]!)!, roiAlignBackwardArrays(dy, shape4(levels[0]!), st.dp.boxes, { ...common, spatialScale: 1 / dpc.featureStrides[0]! }));
          } else {
            const back = roiAlignMultiLevelBackwardArrays(dy, levels.map(shape4), st.dp.boxes, { ...common, scales: dpc.featureStrides.map((s) => 1 / s) });
            maps.densePose.forEach((m, l) => addInto(seeds[i]!.get(m)!, back[l]!));
          }
          row += k;
        });
      });
    }

    // 5: body backward per image (from the saved activations, or recomputing the forward inside the graph).
    for (let i = 0; i < states.length; i++) {
      const st = states[i]!;
      const feeds: Record<string, OnnxTensor> = { image: st.image, ...st.rpnFeeds };
      for (const name of sessions.body.stage.savedNames ?? []) feeds[name] = st.maps[name]!;
      for (const [m, g] of seeds[i]!) feeds[`${SEED_PREFIX}${m}`] = { data: g, shape: st.maps[m]!.shape };
      const out = await time('ort_body_backward', () => sessions.bodyGrad.run(feeds, paramFeeds));
      accumulate(out);
      st.maps = {};
    }
    return { losses, grads, timings };
  }

  async dispose(): Promise<void> {
    if (!this.sessions) return;
    for (const s of Object.values(this.sessions)) await s?.dispose();
    this.sessions = undefined;
  }
}

/** Gradients as tfjs tensors keyed by parameter name (what `Sgd.step` takes); the caller disposes them. */
export function gradientTensors(module: Module, grads: ReadonlyMap<string, Float32Array>): Map<string, tf.Tensor> {
  const shapes = new Map(module.namedParameters().map(([n, p]) => [n, p.shape]));
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, tf.tensor(g, shapes.get(name)!));
  return out;
}
