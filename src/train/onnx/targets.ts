import type { RoiSamples, RpnTargets } from '../../model/losses.ts';
import { planDense, planPoints, warpMaskToRoi, type DensePoseLossOptions, type DensePoseTarget } from '../../model/densepose/losses.ts';
import type { OnnxTensor } from '../../runtime/onnx/session.ts';

/**
 * Host-side targets of the ONNX training stages: the same choices `model/losses.ts` and
 * `model/densepose/losses.ts` make (sampled anchors, RoI classes, annotated points), written as dense
 * weights whose sums are those losses: every normaliser (1/sampled, 1/RoIs, 1/points, 1/images) and loss
 * weight is folded into the weights, so the graphs compute weighted sums only.
 */

const f32 = (data: Float32Array, shape: readonly number[]): OnnxTensor => ({ data, shape });

/** RPN targets of one image, split per FPN level as `[1,H,W,A]` / `[1,H,W,4A]` NHWC (anchor order y, x, a). */
export function rpnLevelTargets(t: RpnTargets, sizes: readonly (readonly [number, number])[], numAnchors: number, weight: number): { label: OnnxTensor; clsWeight: OnnxTensor; locTarget: OnnxTensor; locWeight: OnnxTensor }[] {
  let offset = 0;
  return sizes.map(([h, w]) => {
    const n = h * w * numAnchors;
    const label = new Float32Array(n);
    const clsWeight = new Float32Array(n);
    const locTarget = t.deltas.slice(4 * offset, 4 * (offset + n));
    const locWeight = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const l = t.labels[offset + i]!;
      if (l >= 0) clsWeight[i] = weight;
      if (l === 1) {
        label[i] = 1;
        locWeight.fill(weight, 4 * i, 4 * i + 4);
      }
    }
    offset += n;
    return {
      label: f32(label, [1, h, w, numAnchors]),
      clsWeight: f32(clsWeight, [1, h, w, numAnchors]),
      locTarget: f32(locTarget, [1, h, w, 4 * numAnchors]),
      locWeight: f32(locWeight, [1, h, w, 4 * numAnchors]),
    };
  });
}

/** Box-head targets of one image's sampled RoIs: `[S,K+1]` one-hot CE weights and `[S,4M]` L1 targets/weights. */
export function boxHeadTargets(samples: RoiSamples, numClasses: number, boxColumns: number, weight: number): { clsWeight: Float32Array; locTarget: Float32Array; locWeight: Float32Array } {
  const s = samples.classes.length;
  const k1 = numClasses + 1;
  const clsWeight = new Float32Array(s * k1);
  const locTarget = new Float32Array(s * boxColumns);
  const locWeight = new Float32Array(s * boxColumns);
  if (s === 0) return { clsWeight, locTarget, locWeight };
  const w = weight / s;
  const m = boxColumns / 4;
  for (let j = 0; j < s; j++) clsWeight[j * k1 + samples.classes[j]!] = w;
  for (let j = 0; j < samples.numForeground; j++) {
    const c = m === 1 ? 0 : samples.classes[j]!;
    for (let q = 0; q < 4; q++) {
      locTarget[j * boxColumns + 4 * c + q] = samples.deltas[4 * j + q]!;
      locWeight[j * boxColumns + 4 * c + q] = w;
    }
  }
  return { clsWeight, locTarget, locWeight };
}

/** DensePose chart targets of a set of RoIs (several images' RoIs concatenated, each with its weight). */
export class DensePoseTargetBuilder {
  private readonly sW: number[] = [];
  private readonly iCells: number[] = [];
  private readonly iTaps: number[] = [];
  private readonly iW: number[] = [];
  private readonly uvCells: number[] = [];
  private readonly uvTaps: number[] = [];
  private readonly uvW: number[] = [];
  private readonly uT: number[] = [];
  private readonly vT: number[] = [];
  private rois = 0;

  constructor(
    private readonly outH: number,
    private readonly outW: number,
    private readonly options: DensePoseLossOptions & { numPatches: number },
  ) {}

  get count(): number {
    return this.rois;
  }

  /**
   * Add one image's RoIs (`boxes` `[K,4]`) and targets; `weight` multiplies its losses (dataset weight / images).
   * As `densePoseLosses`: sparse points (bilinear taps) and dense RoIs (each foreground cell a one-tap
   * point, `planDense` weights), the same normalisers; without any foreground point or cell the image adds nothing.
   */
  add(boxes: Float32Array, targets: readonly (DensePoseTarget | null)[], weight: number): void {
    const { outH: h, outW: w } = this;
    const s = this.options.numCoarseSegmChannels;
    const p = this.options.numPatches + 1;
    const k = targets.length;
    const base = this.rois;
    this.rois += k;
    const sW = new Float32Array(k * h * w * s);
    const plan = planPoints(boxes, targets, h, w);
    // Dense RoIs (dp_dense): every foreground cell is a "point" with one tap on its own cell.
    const dense = planDense(boxes, targets, h, w, s);
    let fg = dense.foreground;
    for (const i of plan.i) if (i > 0) fg++;
    if (fg > 0) {
      const wt = this.options.weights;
      const cellOffset = base * h * w;
      const hw = h * w;
      // Normalisers as densePoseLosses: I is a weighted mean over points and cells, S over mask cells.
      let iNorm = 0;
      for (const x of plan.w) iNorm += x;
      for (let c = 0; c < dense.part.length; c++) if (dense.part[c]! > 0) iNorm += dense.pointWeight[c]!;
      const addPoint = (cells: readonly number[], taps: readonly number[], part: number, pw: number, u: number, v: number) => {
        for (let t = 0; t < 4; t++) {
          this.iCells.push(cellOffset + cells[t]!);
          this.iTaps.push(taps[t]!);
        }
        const row = new Array<number>(p).fill(0);
        row[part] = (wt.part * weight * pw) / iNorm;
        this.iW.push(...row);
        if (part > 0) {
          for (let t = 0; t < 4; t++) {
            this.uvCells.push((cellOffset + cells[t]!) * p + part);
            this.uvTaps.push(taps[t]!);
          }
          this.uvW.push(wt.points * weight * pw);
          this.uT.push(u);
          this.vT.push(v);
        }
      };
      for (let j = 0; j < plan.count; j++) {
        addPoint(Array.from(plan.cells.subarray(4 * j, 4 * j + 4)), Array.from(plan.weights.subarray(4 * j, 4 * j + 4)), plan.i[j]!, plan.w[j]!, plan.u[j]!, plan.v[j]!);
      }
      dense.rois.forEach((roi, r) => {
        for (let c = 0; c < hw; c++) {
          const q = r * hw + c;
          const part = dense.part[q]!;
          if (part === 0) continue;
          const cell = roi * hw + c;
          addPoint([cell, cell, cell, cell], [1, 0, 0, 0], part, dense.pointWeight[q]!, dense.u[q]!, dense.v[q]!);
        }
      });
      const withMask: number[] = [];
      targets.forEach((t, i) => t?.masks && !t.dense && withMask.push(i));
      let sNorm = withMask.length * hw;
      for (const x of dense.segmWeight) sNorm += x;
      const cellW = sNorm > 0 ? (wt.segm * weight) / sNorm : 0;
      for (const i of withMask) {
        const t = targets[i]!;
        const warped = warpMaskToRoi(t.masks!, t.box, boxes.subarray(4 * i, 4 * i + 4), h, w);
        for (let c = 0; c < warped.length; c++) {
          const label = s === 2 ? (warped[c]! > 0 ? 1 : 0) : warped[c]!;
          sW[(i * hw + c) * s + label] = cellW;
        }
      }
      dense.rois.forEach((roi, r) => {
        for (let c = 0; c < hw; c++) sW[(roi * hw + c) * s + dense.segmLabel[r * hw + c]!] = cellW * dense.segmWeight[r * hw + c]!;
      });
    }
    for (const v of sW) this.sW.push(v);
  }

  /** Feeds of the DensePose stage; empty point lists get one zero-weight dummy so every tensor is non-empty. */
  feeds(): Record<string, OnnxTensor> {
    const p = this.options.numPatches + 1;
    const pad = (cells: number[], taps: number[], weights: number[], width: number, ...targets: number[][]) => {
      if (cells.length > 0) return;
      cells.push(0, 0, 0, 0);
      taps.push(0, 0, 0, 0);
      for (let i = 0; i < width; i++) weights.push(0);
      for (const t of targets) t.push(0);
    };
    pad(this.iCells, this.iTaps, this.iW, p);
    pad(this.uvCells, this.uvTaps, this.uvW, 1, this.uT, this.vT);
    const s = this.options.numCoarseSegmChannels;
    const m = this.iCells.length / 4;
    const f = this.uvCells.length / 4;
    return {
      dp_s_w: f32(Float32Array.from(this.sW), [this.rois, this.outH, this.outW, s]),
      dp_i_cells: { data: BigInt64Array.from(this.iCells, BigInt), shape: [4 * m] },
      dp_i_taps: f32(Float32Array.from(this.iTaps), [m, 4, 1]),
      dp_i_w: f32(Float32Array.from(this.iW), [m, p]),
      dp_uv_cells: { data: BigInt64Array.from(this.uvCells, BigInt), shape: [4 * f] },
      dp_uv_taps: f32(Float32Array.from(this.uvTaps), [f, 4, 1]),
      dp_uv_w: f32(Float32Array.from(this.uvW), [f, 1]),
      dp_u_t: f32(Float32Array.from(this.uT), [f, 1]),
      dp_v_t: f32(Float32Array.from(this.vT), [f, 1]),
    };
  }
}
