import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../../errors.ts';
import type { DensePoseLossWeights } from './config.ts';
import type { ChartOutputs } from './predictor.ts';

/** Annotated points of one person, COCO-DensePose style: `x, y` in the 256×256 frame of the GT box (`x_img = x0 + x·w/256`). */
export interface DensePosePoints {
  x: Float32Array;
  y: Float32Array;
  /** Chart 1..24 (0 = background, used by the I loss only). */
  i: Uint8Array;
  u: Float32Array;
  v: Float32Array;
}

/** DensePose ground truth matched to one RoI. */
export interface DensePoseTarget {
  /** GT person box xyxy, input pixels. */
  box: ArrayLike<number>;
  points?: DensePosePoints | null;
  /** Coarse part labels 0..14, row-major `[256,256]` over the GT box (decoded `dp_masks`). */
  masks?: Uint8Array | null;
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
  targets.forEach((t, k) => {
    const p = t?.points;
    if (!t || !p) return;
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
    }
  });
  return { count: iv.length, cells: Int32Array.from(cells), weights: Float32Array.from(weights), i: Int32Array.from(iv), u: Float32Array.from(uv), v: Float32Array.from(vv) };
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

/** Smooth-L1 (β = 1), summed, as `F.smooth_l1_loss(reduction="sum")`. */
function smoothL1Sum(est: tf.Tensor, gt: tf.Tensor): tf.Scalar {
  const d = tf.abs(tf.sub(est, gt));
  return tf.sum(tf.where(tf.less(d, 1), tf.mul(0.5, tf.square(d)), tf.sub(d, 0.5))) as tf.Scalar;
}

/** Mean cross-entropy of logits `[M,C]` against integer labels `[M]`. */
function crossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const logp = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1])), 1);
  return tf.neg(tf.mean(picked)) as tf.Scalar;
}

/**
 * DensePose chart losses (DESIGN §4, detectron2 `DensePoseChartLoss`), on NHWC predictor outputs for K RoIs
 * (`proposals` `[K,4]` xyxy) with one target or `null` per RoI:
 * - S: cross-entropy over every cell of the RoIs that have masks, against the warped `dp_masks`
 *   (2 channels: foreground = any part), × weights.segm;
 * - I: cross-entropy of bilinearly sampled fine-segm scores at the points inside their RoI, × weights.part;
 * - U, V: smooth-L1 sum over those points with I > 0, on the GT chart's channel, × weights.points.
 * Without any such foreground point, every loss is `0 · Σ output` (zero, still connected to the graph).
 */
export function densePoseLosses(out: ChartOutputs<tf.Tensor>, proposals: Float32Array, targets: readonly (DensePoseTarget | null)[], options: DensePoseLossOptions): DensePoseLosses {
  const [k, h, w, s] = out.coarseSegm.shape as [number, number, number, number];
  const p = out.fineSegm.shape[3]!;
  if (targets.length !== k || proposals.length !== 4 * k) {
    throw new DensePoseError('BAD_INPUT', `densePoseLosses: ${k} RoIs in the outputs, ${proposals.length / 4} proposals, ${targets.length} targets`);
  }
  if (s !== options.numCoarseSegmChannels) throw new DensePoseError('BAD_INPUT', `densePoseLosses: coarseSegm has ${s} channels, config says ${options.numCoarseSegmChannels}`);
  const plan = planPoints(proposals, targets, h, w);
  let fgCount = 0;
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
    const cells = tf.tensor2d(plan.cells, [plan.count, 4], 'int32');
    const tapW = tf.tensor3d(plan.weights, [plan.count, 4, 1]);
    // I: all channels at the taps, weighted → [M,P] logits.
    const fine = tf.reshape(tf.gather(tf.reshape(out.fineSegm, [-1, p]), cells), [plan.count, 4, p]);
    const I: tf.Scalar = tf.mul(crossEntropy(tf.sum(tf.mul(fine, tapW), 1) as tf.Tensor2D, plan.i), wt.part) as tf.Scalar;
    // U/V: only the GT chart's channel, only foreground points.
    const fgIdx: number[] = [];
    plan.i.forEach((c, j) => c > 0 && fgIdx.push(j));
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
    const sample = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(tf.reshape(t, [-1]), fgCellsT), fgWT), 1);
    const U: tf.Scalar = tf.mul(smoothL1Sum(sample(out.u), tf.tensor1d(fgIdx.map((j) => plan.u[j]!))), wt.points) as tf.Scalar;
    const V: tf.Scalar = tf.mul(smoothL1Sum(sample(out.v), tf.tensor1d(fgIdx.map((j) => plan.v[j]!))), wt.points) as tf.Scalar;
    // S: every cell of the RoIs with masks.
    const withMask: number[] = [];
    targets.forEach((t, i) => t?.masks && withMask.push(i));
    let S: tf.Scalar;
    if (withMask.length === 0) {
      S = tf.mul(tf.sum(out.coarseSegm), 0) as tf.Scalar;
    } else {
      const labels = new Int32Array(withMask.length * h * w);
      withMask.forEach((i, n) => {
        const t = targets[i]!;
        const warped = warpMaskToRoi(t.masks!, t.box, proposals.subarray(4 * i, 4 * i + 4), h, w);
        for (let c = 0; c < warped.length; c++) labels[n * h * w + c] = s === 2 ? (warped[c]! > 0 ? 1 : 0) : warped[c]!;
      });
      const rows = withMask.length === k ? out.coarseSegm : tf.gather(out.coarseSegm, tf.tensor1d(withMask, 'int32'));
      S = tf.mul(crossEntropy(tf.reshape(rows, [-1, s]) as tf.Tensor2D, labels), wt.segm) as tf.Scalar;
    }
    return { S, I, U, V, total: tf.addN([S, I, U, V]) as tf.Scalar } as Record<keyof DensePoseLosses, tf.Tensor>;
  }) as unknown as DensePoseLosses;
}
