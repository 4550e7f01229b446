import * as tf from '@tensorflow/tfjs-core';
import type { DenseIuv } from '../../data/dense-iuv.ts';
import { DensePoseError } from '../../errors.ts';
import { FINE_TO_COARSE } from '../../synth/charts.ts';
import type { DensePoseLossWeights } from './config.ts';
import { type LossOps, tfLossOps } from './loss-ops.ts';
import type { ChartOutputs } from './predictor.ts';

/** Annotated points of one person, COCO-DensePose style: `x, y` in the 256×256 frame of the GT box (`x_img = x0 + x·w/256`). */
export interface DensePosePoints {
  x: Float32Array;
  y: Float32Array;
  /** Chart 1..24 (0 = background, used by the I loss only). */
  i: Uint8Array;
  u: Float32Array;
  v: Float32Array;
  /** Per-point weight (pseudo-label confidence). @default 1 each */
  weight?: Float32Array;
}

/** DensePose ground truth matched to one RoI. */
export interface DensePoseTarget {
  /** GT person box xyxy, input pixels. */
  box: ArrayLike<number>;
  points?: DensePosePoints | null;
  /** Coarse part labels 0..14, row-major `[256,256]` over the GT box (decoded `dp_masks`). */
  masks?: Uint8Array | null;
  /** Dense labels spanning the GT box; when present they replace `points` and `masks` for this RoI. */
  dense?: DenseIuv | null;
}

export interface DensePoseLossOptions {
  /** 2: S learns foreground = any part; 15: the part itself. */
  numCoarseSegmChannels: number;
  weights: DensePoseLossWeights;
}

/** Weighted losses (scalars); `total` is their sum. Names as detectron2's `loss_densepose_{S,I,U,V}`. */
export interface DensePoseLosses {
  S: tf.Scalar;
  I: tf.Scalar;
  U: tf.Scalar;
  V: tf.Scalar;
  total: tf.Scalar;
}

/** Bilinear taps of annotated points on the predictor grid (detectron2 `BilinearInterpolationHelper`). */
export interface PointPlan {
  /** Points inside their RoI, in target order. */
  count: number;
  /** `[count,4]` cell index `k·H·W + y·W + x` of the taps (ylo·xlo, ylo·xhi, yhi·xlo, yhi·xhi). */
  cells: Int32Array;
  /** `[count,4]` tap weights. */
  weights: Float32Array;
  i: Int32Array;
  u: Float32Array;
  v: Float32Array;
  /** `[count]` point weights (1 for human labels). */
  w: Float32Array;
}

/** One axis of detectron2's `_linear_interpolation_utilities`: point in the GT box → grid of the RoI. */
function axis(vNorm: number, v0Src: number, sizeSrc: number, v0Dst: number, sizeDst: number, sizeZ: number): { lo: number; hi: number; w: number; valid: boolean } {
  const v = v0Src + (vNorm * sizeSrc) / 256;
  const valid = v - v0Dst >= 0 && v - v0Dst < sizeDst;
  let grid = ((v - v0Dst) * sizeZ) / sizeDst;
  const lo = Math.min(Math.max(Math.floor(grid), 0), sizeZ - 1);
  const hi = Math.min(lo + 1, sizeZ - 1);
  grid = Math.min(hi, grid);
  return { lo, hi, w: grid - lo, valid };
}

export function planPoints(proposals: Float32Array, targets: readonly (DensePoseTarget | null)[], outH: number, outW: number): PointPlan {
  const cells: number[] = [];
  const weights: number[] = [];
  const iv: number[] = [];
  const uv: number[] = [];
  const vv: number[] = [];
  const ww: number[] = [];
  targets.forEach((t, k) => {
    const p = t?.points;
    if (!t || !p || t.dense) return;
    const [gx0, gy0, gx1, gy1] = [t.box[0]!, t.box[1]!, t.box[2]!, t.box[3]!];
    const [ex0, ey0, ex1, ey1] = [proposals[4 * k]!, proposals[4 * k + 1]!, proposals[4 * k + 2]!, proposals[4 * k + 3]!];
    for (let j = 0; j < p.x.length; j++) {
      const ax = axis(p.x[j]!, gx0, gx1 - gx0, ex0, ex1 - ex0, outW);
      const ay = axis(p.y[j]!, gy0, gy1 - gy0, ey0, ey1 - ey0, outH);
      if (!ax.valid || !ay.valid) continue;
      const base = k * outH * outW;
      cells.push(base + ay.lo * outW + ax.lo, base + ay.lo * outW + ax.hi, base + ay.hi * outW + ax.lo, base + ay.hi * outW + ax.hi);
      weights.push((1 - ax.w) * (1 - ay.w), ax.w * (1 - ay.w), (1 - ax.w) * ay.w, ax.w * ay.w);
      iv.push(p.i[j]!);
      uv.push(p.u[j]!);
      vv.push(p.v[j]!);
      ww.push(p.weight?.[j] ?? 1);
    }
  });
  return { count: iv.length, cells: Int32Array.from(cells), weights: Float32Array.from(weights), i: Int32Array.from(iv), u: Float32Array.from(uv), v: Float32Array.from(vv), w: Float32Array.from(ww) };
}

/**
 * `dp_masks` of the GT box resampled onto the RoI's `outH×outW` grid, as detectron2's `resample_data`
 * (grid_sample nearest, align_corners=True, zeros outside the GT box). → `[outH·outW]` labels 0..14.
 */
export function warpMaskToRoi(mask: Uint8Array, gtBox: ArrayLike<number>, roi: ArrayLike<number>, outH: number, outW: number): Uint8Array {
  if (mask.length !== 256 * 256) throw new DensePoseError('BAD_INPUT', `masks: expected 256×256 = 65536 labels, got ${mask.length}`);
  const [sx0, sy0] = [gtBox[0]!, gtBox[1]!];
  const ws = gtBox[2]! - sx0;
  const hs = gtBox[3]! - sy0;
  const x0n = (2 * (roi[0]! - sx0)) / ws - 1;
  const y0n = (2 * (roi[1]! - sy0)) / hs - 1;
  const x1n = (2 * (roi[2]! - sx0)) / ws - 1;
  const y1n = (2 * (roi[3]! - sy0)) / hs - 1;
  const out = new Uint8Array(outH * outW);
  const col = new Int32Array(outW);
  for (let c = 0; c < outW; c++) col[c] = roundHalfEven((((c / outW) * (x1n - x0n) + x0n + 1) / 2) * 255);
  for (let r = 0; r < outH; r++) {
    const iy = roundHalfEven((((r / outH) * (y1n - y0n) + y0n + 1) / 2) * 255);
    if (iy < 0 || iy > 255) continue;
    for (let c = 0; c < outW; c++) {
      const ix = col[c]!;
      if (ix >= 0 && ix <= 255) out[r * outW + c] = mask[iy * 256 + ix]!;
    }
  }
  return out;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Points one dense RoI counts as in the I/U/V losses: its foreground cells share this much weight
 * (× their mean confidence), so a dense RoI weighs as much as a COCO person with ~100 sampled points
 * and detectron2's loss weights (U/V 0.01 on a sum over points) keep their meaning in mixed batches.
 */
export const DENSE_POINTS_PER_ROI = 100;

/** Dense labels of the RoIs on the predictor grid (host-side constants of the dense loss terms). */
export interface DensePlan {
  /** Output rows (RoIs) with dense targets, ascending. `R` = their count. */
  rois: Int32Array;
  /** `[R·H·W]` fine part 0..24 per cell. */
  part: Uint8Array;
  /** `[R·H·W]` I/U/V weight per cell: confidence · DENSE_POINTS_PER_ROI / (foreground cells of the RoI); 0 on background. */
  pointWeight: Float32Array;
  /** `[R·H·W]` chart coordinates of foreground cells. */
  u: Float32Array;
  v: Float32Array;
  /** `[R·H·W]` S label: 0/1 (2-channel S) or coarse part 0..14. */
  segmLabel: Uint8Array;
  /** `[R·H·W]` S weight per cell: the label's confidence (1 outside the GT box). */
  segmWeight: Float32Array;
  /** Foreground cells over all dense RoIs. */
  foreground: number;
}

/**
 * Dense targets → the `outH×outW` grid of each RoI: cell (r, c) takes the label under its centre
 * (`x = x0 + (c + ½)·w/outW` in input pixels), looked up in the GT box's dense map (nearest); cells
 * outside the GT box are background with weight 1 (as `warpMaskToRoi`'s zeros outside the box).
 */
export function planDense(proposals: Float32Array, targets: readonly (DensePoseTarget | null)[], outH: number, outW: number, numCoarseSegmChannels: number): DensePlan {
  const rois: number[] = [];
  targets.forEach((t, k) => t?.dense && rois.push(k));
  const hw = outH * outW;
  const n = rois.length * hw;
  const plan: DensePlan = {
    rois: Int32Array.from(rois), part: new Uint8Array(n), pointWeight: new Float32Array(n), u: new Float32Array(n), v: new Float32Array(n),
    segmLabel: new Uint8Array(n), segmWeight: new Float32Array(n).fill(1), foreground: 0,
  };
  const mx = new Int32Array(outW);
  rois.forEach((k, r) => {
    const t = targets[k]!;
    const d = t.dense!;
    const [gx0, gy0, gx1, gy1] = [t.box[0]!, t.box[1]!, t.box[2]!, t.box[3]!];
    const [ex0, ey0, ex1, ey1] = [proposals[4 * k]!, proposals[4 * k + 1]!, proposals[4 * k + 2]!, proposals[4 * k + 3]!];
    for (let c = 0; c < outW; c++) {
      const f = (ex0 + ((c + 0.5) * (ex1 - ex0)) / outW - gx0) / (gx1 - gx0);
      mx[c] = f >= 0 && f < 1 ? Math.floor(f * d.width) : -1;
    }
    const base = r * hw;
    let fg = 0;
    let confSum = 0;
    for (let row = 0; row < outH; row++) {
      const f = (ey0 + ((row + 0.5) * (ey1 - ey0)) / outH - gy0) / (gy1 - gy0);
      if (!(f >= 0 && f < 1)) continue;
      const my = Math.floor(f * d.height);
      for (let c = 0; c < outW; c++) {
        if (mx[c]! < 0) continue;
        const src = my * d.width + mx[c]!;
        const cell = base + row * outW + c;
        const conf = d.confidence ? d.confidence[src]! : 1;
        const part = d.i[src]!;
        plan.segmWeight[cell] = conf;
        plan.segmLabel[cell] = numCoarseSegmChannels === 2 ? (part > 0 ? 1 : 0) : FINE_TO_COARSE[part]!;
        if (part === 0) continue;
        plan.part[cell] = part;
        plan.u[cell] = d.u[src]!;
        plan.v[cell] = d.v[src]!;
        plan.pointWeight[cell] = conf;
        fg++;
        confSum += conf;
      }
    }
    if (fg > 0 && confSum > 0) {
      const scale = DENSE_POINTS_PER_ROI / fg;
      for (let cell = base; cell < base + hw; cell++) plan.pointWeight[cell]! *= scale;
    }
    plan.foreground += fg;
  });
  return plan;
}

/** Weighted sums of the dense terms (before normalisation and loss weights), and their normalisers. */
export interface DenseTerms<T> {
  /** Σ w·CE(fine, part) over foreground cells; normaliser Σ w. */
  iSum: T;
  iWeight: number;
  /** Σ w·smoothL1(u[part] − u*) over foreground cells (sum semantics, like the points'). */
  uSum: T;
  vSum: T;
  /** Σ w·CE(coarse, label) over every cell; normaliser Σ w. */
  sSum: T;
  sWeight: number;
}

/**
 * The dense loss terms of {@link densePoseLosses}, written against {@link LossOps} so another engine
 * can emit the same graph. `out` holds all K RoIs (NHWC `[K,H,W,C]`); only `plan.rois` are used. Every
 * data-dependent choice is a constant: one-hot × weight tensors pick the GT channel, so the math is
 * LogSoftmax, Mul, Sub, ReduceSum and smooth-L1 only.
 */
export function denseTerms<T>(ops: LossOps<T>, out: ChartOutputs<T>, k: number, plan: DensePlan, shape: { h: number; w: number; s: number; p: number }): DenseTerms<T> {
  const { h, w, s, p } = shape;
  const r = plan.rois.length;
  const cells = r * h * w;
  const rows = (t: T) => (r === k ? t : ops.gatherRows(t, plan.rois));
  const iW = new Float32Array(cells * p);
  const pick = new Float32Array(cells * p);
  const sW = new Float32Array(cells * s);
  let iWeight = 0;
  let sWeight = 0;
  for (let c = 0; c < cells; c++) {
    const part = plan.part[c]!;
    if (part > 0) {
      iW[c * p + part] = plan.pointWeight[c]!;
      pick[c * p + part] = 1;
      iWeight += plan.pointWeight[c]!;
    }
    sW[c * s + plan.segmLabel[c]!] = plan.segmWeight[c]!;
    sWeight += plan.segmWeight[c]!;
  }
  const pickT = ops.constant(pick, [r, h, w, p]);
  const wT = ops.constant(plan.pointWeight, [r, h, w]);
  const chart = (t: T, gt: Float32Array) => ops.sumAll(ops.mul(wT, ops.smoothL1(ops.sub(ops.sumChannels(ops.mul(pickT, rows(t))), ops.constant(gt, [r, h, w])))));
  return {
    iSum: ops.sumAll(ops.mul(ops.constant(iW, [r, h, w, p]), ops.logSoftmaxChannels(rows(out.fineSegm)))),
    iWeight,
    uSum: chart(out.u, plan.u),
    vSum: chart(out.v, plan.v),
    sSum: ops.sumAll(ops.mul(ops.constant(sW, [r, h, w, s]), ops.logSoftmaxChannels(rows(out.coarseSegm)))),
    sWeight,
  };
}

/**
 * DensePose chart losses (DESIGN §4, detectron2 `DensePoseChartLoss`), on NHWC predictor outputs for K RoIs
 * (`proposals` `[K,4]` xyxy) with one target or `null` per RoI. A RoI's target is sparse (COCO points and
 * `dp_masks`) or dense (a `DenseIuv` map); both kinds mix in one call:
 * - I: cross-entropy of bilinearly sampled fine-segm scores at the points inside their RoI, and of every
 *   foreground cell of the dense RoIs; a weighted mean (point weights, cell weights of {@link planDense}), × weights.part;
 * - U, V: smooth-L1 summed over those points/cells, on the GT chart's channel, weighted likewise, × weights.points;
 * - S: cross-entropy over every cell of the RoIs with masks or dense labels (2 channels: foreground = any
 *   part); a weighted mean (dense cells weighted by confidence), × weights.segm.
 * Without any foreground point or cell, every loss is `0 · Σ output` (zero, still connected to the graph).
 */
export function densePoseLosses(out: ChartOutputs<tf.Tensor>, proposals: Float32Array, targets: readonly (DensePoseTarget | null)[], options: DensePoseLossOptions): DensePoseLosses {
  const [k, h, w, s] = out.coarseSegm.shape as [number, number, number, number];
  const p = out.fineSegm.shape[3]!;
  if (targets.length !== k || proposals.length !== 4 * k) {
    throw new DensePoseError('BAD_INPUT', `densePoseLosses: ${k} RoIs in the outputs, ${proposals.length / 4} proposals, ${targets.length} targets`);
  }
  if (s !== options.numCoarseSegmChannels) throw new DensePoseError('BAD_INPUT', `densePoseLosses: coarseSegm has ${s} channels, config says ${options.numCoarseSegmChannels}`);
  const plan = planPoints(proposals, targets, h, w);
  const dense = planDense(proposals, targets, h, w, s);
  let fgCount = dense.foreground;
  for (const i of plan.i) if (i > 0) fgCount++;
  const wt = options.weights;
  return tf.tidy(() => {
    if (fgCount === 0) {
      const zero = (t: tf.Tensor): tf.Scalar => tf.mul(tf.sum(t), 0) as tf.Scalar;
      const S = zero(out.coarseSegm);
      const I = zero(out.fineSegm);
      const U = zero(out.u);
      const V = zero(out.v);
      return { S, I, U, V, total: tf.addN([S, I, U, V]) as tf.Scalar } as Record<keyof DensePoseLosses, tf.Tensor>;
    }
    // Weighted sums and normalisers of each term, sparse and dense parts added before normalising.
    const iParts: tf.Tensor[] = [];
    const uParts: tf.Tensor[] = [];
    const vParts: tf.Tensor[] = [];
    const sParts: tf.Tensor[] = [];
    let iNorm = 0;
    let sNorm = 0;
    if (plan.count > 0) {
      const cells = tf.tensor2d(plan.cells, [plan.count, 4], 'int32');
      const tapW = tf.tensor3d(plan.weights, [plan.count, 4, 1]);
      // I: all channels at the taps, weighted → [M,P] logits.
      const fine = tf.reshape(tf.gather(tf.reshape(out.fineSegm, [-1, p]), cells), [plan.count, 4, p]);
      iParts.push(weightedCrossEntropySum(tf.sum(tf.mul(fine, tapW), 1) as tf.Tensor2D, plan.i, plan.w));
      for (const x of plan.w) iNorm += x;
      // U/V: only the GT chart's channel, only foreground points.
      const fgIdx: number[] = [];
      plan.i.forEach((c, j) => c > 0 && fgIdx.push(j));
      if (fgIdx.length > 0) {
        const fgCells = new Int32Array(fgIdx.length * 4);
        const fgW = new Float32Array(fgIdx.length * 4);
        fgIdx.forEach((j, n) => {
          for (let t = 0; t < 4; t++) {
            fgCells[4 * n + t] = plan.cells[4 * j + t]! * p + plan.i[j]!;
            fgW[4 * n + t] = plan.weights[4 * j + t]!;
          }
        });
        const fgCellsT = tf.tensor2d(fgCells, [fgIdx.length, 4], 'int32');
        const fgWT = tf.tensor2d(fgW, [fgIdx.length, 4]);
        const pointW = tf.tensor1d(fgIdx.map((j) => plan.w[j]!));
        const sample = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(tf.reshape(t, [-1]), fgCellsT), fgWT), 1);
        uParts.push(smoothL1Sum(sample(out.u), tf.tensor1d(fgIdx.map((j) => plan.u[j]!)), pointW));
        vParts.push(smoothL1Sum(sample(out.v), tf.tensor1d(fgIdx.map((j) => plan.v[j]!)), pointW));
      }
    }
    // S of the sparse RoIs: every cell of the RoIs with masks.
    const withMask: number[] = [];
    targets.forEach((t, i) => t?.masks && !t.dense && withMask.push(i));
    if (withMask.length > 0) {
      const labels = new Int32Array(withMask.length * h * w);
      withMask.forEach((i, n) => {
        const t = targets[i]!;
        const warped = warpMaskToRoi(t.masks!, t.box, proposals.subarray(4 * i, 4 * i + 4), h, w);
        for (let c = 0; c < warped.length; c++) labels[n * h * w + c] = s === 2 ? (warped[c]! > 0 ? 1 : 0) : warped[c]!;
      });
      const rows = withMask.length === k ? out.coarseSegm : tf.gather(out.coarseSegm, tf.tensor1d(withMask, 'int32'));
      sParts.push(weightedCrossEntropySum(tf.reshape(rows, [-1, s]) as tf.Tensor2D, labels, null));
      sNorm += labels.length;
    }
    if (dense.rois.length > 0) {
      const d = denseTerms(tfLossOps, out, k, dense, { h, w, s, p });
      iParts.push(tf.neg(d.iSum));
      iNorm += d.iWeight;
      uParts.push(d.uSum);
      vParts.push(d.vSum);
      sParts.push(tf.neg(d.sSum));
      sNorm += d.sWeight;
    }
    const total = (parts: tf.Tensor[], like: tf.Tensor): tf.Tensor => (parts.length ? tf.addN(parts) : tf.mul(tf.sum(like), 0));
    const I = tf.mul(tf.div(total(iParts, out.fineSegm), Math.max(iNorm, 1e-12)), wt.part) as tf.Scalar;
    const U = tf.mul(total(uParts, out.u), wt.points) as tf.Scalar;
    const V = tf.mul(total(vParts, out.v), wt.points) as tf.Scalar;
    const S = tf.mul(tf.div(total(sParts, out.coarseSegm), Math.max(sNorm, 1e-12)), wt.segm) as tf.Scalar;
    return { S, I, U, V, total: tf.addN([S, I, U, V]) as tf.Scalar } as Record<keyof DensePoseLosses, tf.Tensor>;
  }) as unknown as DensePoseLosses;
}

/** Σ w·smoothL1(est − gt) with β = 1 (`F.smooth_l1_loss(reduction="sum")` when w = 1). */
function smoothL1Sum(est: tf.Tensor, gt: tf.Tensor, w: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(tfLossOps.smoothL1(tf.sub(est, gt)), w)) as tf.Scalar;
}

/** Σ w·CE of logits `[M,C]` against integer labels `[M]` (w = 1 when null). */
function weightedCrossEntropySum(logits: tf.Tensor2D, labels: Int32Array, w: Float32Array | null): tf.Scalar {
  const logp = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1])), 1);
  return tf.neg(tf.sum(w ? tf.mul(picked, tf.tensor1d(w)) : picked)) as tf.Scalar;
}
