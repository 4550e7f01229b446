// The DensePose stage of the pipeline, as free functions the pipeline calls (whatever its shape):
// pool every person box of a batch, run the head once over all of them, hand back the chart arrays.
// No Node-only imports (the browser page runs it too).
import { DensePoseError } from '../errors.ts';
import { applyConfidences, CONFIDENCE_HEADS, type ConfidenceArrays } from '../model/densepose/confidence.ts';
import type { ChartArrays } from '../model/densepose/postprocess.ts';
import { roiAlignArrays, roiAlignMultiLevelArrays } from '../model/roi-align.ts';
import type { PipelineSpec } from './spec.ts';
import { DENSEPOSE_OUTPUTS } from './stage-names.ts';
import type { StageTensor } from './types.ts';

/** One person box to pool: its image in the batch and the box `[4]` xyxy in model-input pixels. */
export interface DensePoseRoi {
  image: number;
  modelBox: ArrayLike<number>;
}

/** One image's NHWC map `[1,H,W,C]` (a view into the batch output). */
export interface ImageMap {
  data: Float32Array;
  shape: readonly [number, number, number, number];
}

/**
 * RoIAlign of every box for the DensePose head → `[K,h,w,C]` NHWC in `rois` order. `maps(n)` gives image
 * `n`'s pooled maps (one stride-4 decoder map, or p2..p5 chosen by box size). One RoIAlign call per image,
 * so the sampling plans of all its boxes are built in one pass.
 */
export function poolDensePoseRois(dp: PipelineSpec['densepose'], maps: (image: number) => readonly ImageMap[], rois: readonly DensePoseRoi[]): Float32Array {
  const [ph, pw] = dp.poolerResolution;
  const cell = ph * pw * dp.channels;
  const out = new Float32Array(rois.length * cell);
  const byImage = new Map<number, number[]>();
  rois.forEach((r, j) => {
    let list = byImage.get(r.image);
    if (!list) byImage.set(r.image, (list = []));
    list.push(j);
  });
  const common = { outputSize: [ph, pw] as const, samplingRatio: dp.poolerSamplingRatio, aligned: dp.poolerAligned };
  for (const [image, idx] of byImage) {
    const m = maps(image);
    const boxes = new Float32Array(4 * idx.length);
    idx.forEach((j, i) => boxes.set(rois[j]!.modelBox, 4 * i));
    const pooled =
      m.length === 1
        ? roiAlignArrays(m[0]!.data, m[0]!.shape, boxes, { ...common, spatialScale: 1 / dp.featureStrides[0]! })
        : roiAlignMultiLevelArrays(m.map((x) => x.data), m.map((x) => x.shape), boxes, { ...common, scales: dp.featureStrides.map((s) => 1 / s) });
    // Rows come back in `idx` order; consecutive runs of rois (the usual case) copy as one block.
    for (let i = 0; i < idx.length; ) {
      let n = 1;
      while (i + n < idx.length && idx[i + n] === idx[i]! + n) n++;
      out.set(pooled.subarray(i * cell, (i + n) * cell), idx[i]! * cell);
      i += n;
    }
  }
  return out;
}

/** What {@link runDensePoseHeadBatched} needs of a stage runner (the pipeline's `StageRunner` fits). */
export interface DensePoseHeadRunner {
  run(stage: 'densepose', feeds: Record<string, StageTensor>): Promise<Record<string, StageTensor>>;
}

/**
 * The DensePose head + predictor over `pooled` `[K,h,w,C]` (NHWC) in one stage run: every box of the
 * batch at once, so the head's convolutions see batch K and ORT's per-run costs are paid once.
 * Returns the predictor outputs `[K,Hout,Wout,·]` NHWC as {@link ChartArrays}, with the model's confidence
 * outputs (`dp.confidences`, if any) post-processed as detectron2 does.
 */
export async function runDensePoseHeadBatched(
  runner: DensePoseHeadRunner,
  pooled: StageTensor,
  dp: Pick<PipelineSpec['densepose'], 'confidences' | 'segmConfidenceEpsilon'> = {},
): Promise<ChartArrays> {
  const k = pooled.shape[0]!;
  if (pooled.shape.length !== 4 || pooled.data.length !== pooled.shape.reduce((a, b) => a * b, 1)) {
    throw new DensePoseError('SHAPE_MISMATCH', `runDensePoseHeadBatched: pooled must be [K,h,w,C] with matching data, got [${pooled.shape.join(',')}] and ${pooled.data.length} values`);
  }
  const out = await runner.run('densepose', { pooled });
  const [segm, fine, u, v] = DENSEPOSE_OUTPUTS.map((name) => {
    const t = out[name];
    if (!t) throw new DensePoseError('MISSING_KEY', `stage "densepose" did not output "${name}". Outputs: ${Object.keys(out).join(', ')}`);
    return t;
  }) as [StageTensor, StageTensor, StageTensor, StageTensor];
  if (segm.shape[0] !== k) throw new DensePoseError('SHAPE_MISMATCH', `stage "densepose": ${segm.shape[0]} outputs for ${k} boxes`);
  const arrays: ChartArrays = {
    coarseSegm: segm.data,
    fineSegm: fine.data,
    u: u.data,
    v: v.data,
    count: k,
    height: segm.shape[1]!,
    width: segm.shape[2]!,
    segmChannels: segm.shape[3]!,
    patchChannels: fine.shape[3]!,
  };
  if (dp.confidences?.length) {
    const raw: ConfidenceArrays = {};
    for (const name of dp.confidences) {
      const t = out[CONFIDENCE_HEADS[name]];
      if (!t) throw new DensePoseError('MISSING_KEY', `stage "densepose" did not output "${CONFIDENCE_HEADS[name]}". Outputs: ${Object.keys(out).join(', ')}`);
      raw[name] = t.data;
    }
    arrays.confidences = applyConfidences(arrays, raw, dp.segmConfidenceEpsilon ?? 0.01);
  }
  return arrays;
}

/** Boxes per head run that keep its float32 outputs (S + 3·(P+1) channels at `outSize`) under `budgetBytes`. */
export function headBatchForMemory(outSize: readonly [number, number], outChannels: number, budgetBytes = 512 * 2 ** 20): number {
  return Math.max(1, Math.floor(budgetBytes / (4 * outSize[0] * outSize[1] * outChannels)));
}
