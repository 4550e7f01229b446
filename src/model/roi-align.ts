import { DensePoseError } from '../errors.ts';

/**
 * RoIAlign as torchvision's `roi_align` / detectron2's `ROIAlign` (both modes) on NHWC typed arrays
 * (channels are contiguous in NHWC, so the inner loop is a plain axpy over C); no tfjs here, so the
 * ONNX Runtime and browser pipelines load none. The tfjs ops (`roiAlign`, `roiAlignOps`,
 * `roiAlignMultiLevel`, differentiable) are in roi-align-tf.ts, on top of these.
 */
export interface RoiAlignOptions {
  /** Output `[h, w]` (7×7 box head, 14×14 / 28×28 DensePose, 88×64 ours). */
  outputSize: readonly [number, number];
  /** Feature pixels per input pixel (1/stride). */
  spatialScale: number;
  /** Samples per bin side; 0 = adaptive `ceil(roiSize / outputSize)` per box. @default 0 */
  samplingRatio?: number;
  /** true: half-pixel shift (ROIAlignV2, torchvision aligned=True); false: legacy with 1-px minimum size. @default true */
  aligned?: boolean;
  /** Image index of each box for a batch `[N,H,W,C]` (`Int32Array [K]`); all 0 when omitted. */
  batchIndices?: Int32Array;
}

/**
 * Bilinear sampling plan of one box: for each output row (col), `grid` sample positions, each with two
 * taps (low/high) and their weights. Rows and columns are separable, so the plan is O(h + w) per box.
 */
export interface AxisPlan {
  lo: Int32Array;
  hi: Int32Array;
  wLo: Float32Array;
  wHi: Float32Array;
  grid: number;
}

function axisPlan(start: number, size: number, bins: number, grid: number, limit: number): AxisPlan {
  const n = bins * grid;
  const plan: AxisPlan = { lo: new Int32Array(n), hi: new Int32Array(n), wLo: new Float32Array(n), wHi: new Float32Array(n), grid };
  const binSize = size / bins;
  for (let p = 0; p < bins; p++) {
    for (let i = 0; i < grid; i++) {
      const j = p * grid + i;
      let v = start + p * binSize + ((i + 0.5) * binSize) / grid;
      // torchvision: a sample more than one pixel outside the map contributes 0.
      if (v < -1 || v > limit) continue;
      if (v <= 0) v = 0;
      let lo = Math.floor(v);
      let hi: number;
      if (lo >= limit - 1) {
        hi = lo = limit - 1;
        v = lo;
      } else {
        hi = lo + 1;
      }
      const l = v - lo;
      plan.lo[j] = lo;
      plan.hi[j] = hi;
      plan.wLo[j] = 1 - l;
      plan.wHi[j] = l;
    }
  }
  return plan;
}

export interface BoxPlan {
  y: AxisPlan;
  x: AxisPlan;
  /** 1 / (gridH·gridW): the bin average. */
  norm: number;
  batch: number;
}

/** @internal shared with roi-align-tf.ts */
export function validate(featShape: readonly number[], boxes: Float32Array, options: RoiAlignOptions): void {
  const [oh, ow] = options.outputSize;
  if (!(Number.isInteger(oh) && Number.isInteger(ow) && oh > 0 && ow > 0)) {
    throw new DensePoseError('BAD_OPTION', `roiAlign: outputSize must be two positive integers [h, w], got [${options.outputSize.join(', ')}]`);
  }
  if (!(options.spatialScale > 0)) throw new DensePoseError('BAD_OPTION', `roiAlign: spatialScale must be > 0, got ${options.spatialScale}`);
  const sr = options.samplingRatio ?? 0;
  if (!(Number.isInteger(sr) && sr >= 0)) throw new DensePoseError('BAD_OPTION', `roiAlign: samplingRatio must be an integer ≥ 0 (0 = adaptive), got ${sr}`);
  if (featShape.length !== 4) throw new DensePoseError('BAD_INPUT', `roiAlign: features must be [N,H,W,C], got [${featShape.join(',')}]`);
  if (boxes.length % 4 !== 0) throw new DensePoseError('BAD_INPUT', `roiAlign: boxes must be [K,4] (length a multiple of 4), got length ${boxes.length}`);
  const k = boxes.length / 4;
  if (options.batchIndices) {
    if (options.batchIndices.length !== k) throw new DensePoseError('BAD_INPUT', `roiAlign: batchIndices has ${options.batchIndices.length} entries for ${k} boxes`);
    for (const b of options.batchIndices) if (b < 0 || b >= featShape[0]!) throw new DensePoseError('BAD_INPUT', `roiAlign: batch index ${b} outside [0, ${featShape[0]})`);
  }
}

/** @internal shared with roi-align-tf.ts */
export function planBoxes(boxes: Float32Array, height: number, width: number, options: RoiAlignOptions): BoxPlan[] {
  const [oh, ow] = options.outputSize;
  const aligned = options.aligned ?? true;
  const offset = aligned ? 0.5 : 0;
  const scale = options.spatialScale;
  const sr = options.samplingRatio ?? 0;
  const plans: BoxPlan[] = [];
  for (let k = 0; k < boxes.length / 4; k++) {
    const x0 = boxes[4 * k]! * scale - offset;
    const y0 = boxes[4 * k + 1]! * scale - offset;
    let rw = boxes[4 * k + 2]! * scale - offset - x0;
    let rh = boxes[4 * k + 3]! * scale - offset - y0;
    if (!aligned) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const gh = sr > 0 ? sr : Math.ceil(rh / oh);
    const gw = sr > 0 ? sr : Math.ceil(rw / ow);
    plans.push({
      y: axisPlan(y0, rh, oh, gh, height),
      x: axisPlan(x0, rw, ow, gw, width),
      norm: 1 / Math.max(gh * gw, 1),
      batch: options.batchIndices ? options.batchIndices[k]! : 0,
    });
  }
  return plans;
}

/**
 * Every (output cell, tap, weight) of the plans as flat arrays (CSR by cell): taps of cell `q` are
 * `cellStart[q] .. cellStart[q+1]`, each an element offset of channel 0 in the `[N,H,W,C]` input and a
 * weight (bin average included). Zero-weight taps are dropped. The hot loops then run without closures.
 */
export interface Taps {
  cellStart: Int32Array;
  inBase: Int32Array;
  weight: Float32Array;
}

/**
 * Taps of one axis per bin with equal pixels merged: the `2·grid` (pixel, weight) pairs of a bin's samples
 * usually hit only 2–3 distinct pixels (neighbouring samples share them), so the cell's taps — the product
 * of its row and column lists — shrink from 16 to about 9 at grid 2. Zero weights are dropped.
 */
function mergedAxis(plan: AxisPlan, bins: number): { start: Int32Array; index: Int32Array; weight: Float32Array } {
  const start = new Int32Array(bins + 1);
  const index = new Int32Array(bins * plan.grid * 2);
  const weight = new Float32Array(bins * plan.grid * 2);
  let n = 0;
  for (let p = 0; p < bins; p++) {
    start[p] = n;
    for (let i = p * plan.grid; i < (p + 1) * plan.grid; i++) {
      for (let t = 0; t < 2; t++) {
        const at = t === 0 ? plan.lo[i]! : plan.hi[i]!;
        const w = t === 0 ? plan.wLo[i]! : plan.wHi[i]!;
        if (w === 0) continue;
        let j = start[p]!;
        while (j < n && index[j] !== at) j++;
        if (j < n) weight[j]! += w;
        else {
          index[n] = at;
          weight[n++] = w;
        }
      }
    }
  }
  start[bins] = n;
  return { start, index, weight };
}

/** @internal shared with roi-align-tf.ts */
export function buildTaps(plans: BoxPlan[], shape: readonly number[], outputSize: readonly [number, number]): Taps {
  const [, height, width, c] = shape as [number, number, number, number];
  const [oh, ow] = outputSize;
  const cells = plans.length * oh * ow;
  let bound = 0;
  for (const p of plans) bound += oh * ow * p.y.grid * p.x.grid * 4;
  const inBase = new Int32Array(bound);
  const weight = new Float32Array(bound);
  const cellStart = new Int32Array(cells + 1);
  let n = 0;
  for (let k = 0; k < plans.length; k++) {
    const { y, x, norm, batch } = plans[k]!;
    const imgBase = batch * height * width * c;
    const ys = mergedAxis(y, oh);
    const xs = mergedAxis(x, ow);
    for (let ph = 0; ph < oh; ph++) {
      for (let pw = 0; pw < ow; pw++) {
        cellStart[(k * oh + ph) * ow + pw] = n;
        for (let a = ys.start[ph]!; a < ys.start[ph + 1]!; a++) {
          const rowBase = imgBase + ys.index[a]! * width * c;
          const wy = ys.weight[a]! * norm;
          for (let b = xs.start[pw]!; b < xs.start[pw + 1]!; b++) {
            inBase[n] = rowBase + xs.index[b]! * c;
            weight[n++] = wy * xs.weight[b]!;
          }
        }
      }
    }
  }
  cellStart[cells] = n;
  return { cellStart, inBase, weight };
}

/** Forward on plain arrays: features `[N,H,W,C]` (NHWC, row-major) → `[K,h,w,C]`. */
export function roiAlignArrays(features: Float32Array, shape: readonly [number, number, number, number], boxes: Float32Array, options: RoiAlignOptions): Float32Array {
  validate(shape, boxes, options);
  const c = shape[3];
  const [oh, ow] = options.outputSize;
  const out = new Float32Array((boxes.length / 4) * oh * ow * c);
  const { cellStart, inBase, weight } = buildTaps(planBoxes(boxes, shape[1], shape[2], options), shape, options.outputSize);
  const c4 = c - (c % 4);
  for (let q = 0; q + 1 < cellStart.length; q++) {
    const o = q * c;
    const end = cellStart[q + 1]!;
    for (let t = cellStart[q]!; t < end; t++) {
      const i = inBase[t]!;
      const w = weight[t]!;
      // Four channels per step: V8 keeps the loop overhead and bounds checks per 4 (≈1.2× here).
      let ch = 0;
      for (; ch < c4; ch += 4) {
        out[o + ch] = out[o + ch]! + w * features[i + ch]!;
        out[o + ch + 1] = out[o + ch + 1]! + w * features[i + ch + 1]!;
        out[o + ch + 2] = out[o + ch + 2]! + w * features[i + ch + 2]!;
        out[o + ch + 3] = out[o + ch + 3]! + w * features[i + ch + 3]!;
      }
      for (; ch < c; ch++) out[o + ch] = out[o + ch]! + w * features[i + ch]!;
    }
  }
  return out;
}

/** Backward on plain arrays: `dy [K,h,w,C]` → `dx [N,H,W,C]` (adjoint of {@link roiAlignArrays}). */
export function roiAlignBackwardArrays(dy: Float32Array, shape: readonly [number, number, number, number], boxes: Float32Array, options: RoiAlignOptions): Float32Array {
  validate(shape, boxes, options);
  const c = shape[3];
  const dx = new Float32Array(shape[0] * shape[1] * shape[2] * c);
  const { cellStart, inBase, weight } = buildTaps(planBoxes(boxes, shape[1], shape[2], options), shape, options.outputSize);
  for (let q = 0; q + 1 < cellStart.length; q++) {
    const o = q * c;
    for (let t = cellStart[q]!; t < cellStart[q + 1]!; t++) {
      const i = inBase[t]!;
      const w = weight[t]!;
      for (let ch = 0; ch < c; ch++) dx[i + ch]! += w * dy[o + ch]!;
    }
  }
  return dx;
}

/** FPN level choice of detectron2's `assign_boxes_to_levels`. */
export interface LevelAssignOptions {
  /** @default 2 */
  minLevel?: number;
  /** @default 5 */
  maxLevel?: number;
  /** Box side (sqrt area, input pixels) that maps to `canonicalLevel`. @default 224 */
  canonicalBoxSize?: number;
  /** @default 4 */
  canonicalLevel?: number;
}

/** Index into the level list (0 = minLevel) per box: `floor(canonicalLevel + log2(sqrt(area)/canonical + 1e-8))`, clamped. */
export function assignFpnLevels(boxes: Float32Array, options: LevelAssignOptions = {}): Int32Array {
  const minLevel = options.minLevel ?? 2;
  const maxLevel = options.maxLevel ?? 5;
  const canonical = options.canonicalBoxSize ?? 224;
  const canonicalLevel = options.canonicalLevel ?? 4;
  const out = new Int32Array(boxes.length / 4);
  for (let k = 0; k < out.length; k++) {
    const area = (boxes[4 * k + 2]! - boxes[4 * k]!) * (boxes[4 * k + 3]! - boxes[4 * k + 1]!);
    const size = Math.sqrt(area);
    // float32 like detectron2 (it computes in the boxes' dtype), so ties at exact powers of two agree.
    const level = Math.floor(Math.fround(canonicalLevel + Math.log2(Math.fround(size / canonical + 1e-8))));
    out[k] = Math.min(Math.max(level, minLevel), maxLevel) - minLevel;
  }
  return out;
}

export interface MultiLevelRoiAlignOptions extends Omit<RoiAlignOptions, 'spatialScale' | 'batchIndices'>, LevelAssignOptions {
  /** Spatial scale of each level, finest first (FPN p2..p5: 1/4, 1/8, 1/16, 1/32). */
  scales: readonly number[];
}

/**
 * {@link roiAlignMultiLevel} on plain arrays (the ONNX Runtime path): `levels[l]` = NHWC data of
 * `[1,H_l,W_l,C]` with `shapes[l]`; boxes `[K,4]` → `[K,h,w,C]` in box order.
 */
export function roiAlignMultiLevelArrays(
  levels: readonly Float32Array[],
  shapes: readonly (readonly [number, number, number, number])[],
  boxes: Float32Array,
  options: MultiLevelRoiAlignOptions,
): Float32Array {
  const [oh, ow] = options.outputSize;
  const c = shapes[0]![3];
  const k = boxes.length / 4;
  const cell = oh * ow * c;
  const out = new Float32Array(k * cell);
  const minLevel = options.minLevel ?? 2;
  const assign = levels.length === 1 ? new Int32Array(k) : assignFpnLevels(boxes, { ...options, minLevel, maxLevel: options.maxLevel ?? minLevel + levels.length - 1 });
  for (let l = 0; l < levels.length; l++) {
    const idx: number[] = [];
    for (let i = 0; i < k; i++) if (assign[i] === l) idx.push(i);
    if (idx.length === 0) continue;
    const sub = new Float32Array(idx.length * 4);
    idx.forEach((i, j) => sub.set(boxes.subarray(4 * i, 4 * i + 4), 4 * j));
    const pooled = roiAlignArrays(levels[l]!, shapes[l]!, sub, { outputSize: options.outputSize, spatialScale: options.scales[l]!, samplingRatio: options.samplingRatio, aligned: options.aligned });
    idx.forEach((i, j) => out.set(pooled.subarray(j * cell, (j + 1) * cell), i * cell));
  }
  return out;
}

/**
 * Adjoint of {@link roiAlignMultiLevelArrays}: `dy` `[K,h,w,C]` in box order → one NHWC gradient per level
 * (zeros where no box pools), for the ONNX Runtime trainer's host step between head and body stages.
 */
export function roiAlignMultiLevelBackwardArrays(
  dy: Float32Array,
  shapes: readonly (readonly [number, number, number, number])[],
  boxes: Float32Array,
  options: MultiLevelRoiAlignOptions,
): Float32Array[] {
  const [oh, ow] = options.outputSize;
  const c = shapes[0]![3];
  const k = boxes.length / 4;
  const cell = oh * ow * c;
  const minLevel = options.minLevel ?? 2;
  const assign = shapes.length === 1 ? new Int32Array(k) : assignFpnLevels(boxes, { ...options, minLevel, maxLevel: options.maxLevel ?? minLevel + shapes.length - 1 });
  return shapes.map((shape, l) => {
    const idx: number[] = [];
    for (let i = 0; i < k; i++) if (assign[i] === l) idx.push(i);
    if (idx.length === 0) return new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]);
    const sub = new Float32Array(idx.length * 4);
    const subDy = new Float32Array(idx.length * cell);
    idx.forEach((i, j) => {
      sub.set(boxes.subarray(4 * i, 4 * i + 4), 4 * j);
      subDy.set(dy.subarray(i * cell, (i + 1) * cell), j * cell);
    });
    return roiAlignBackwardArrays(subDy, shape, sub, { outputSize: options.outputSize, spatialScale: options.scales[l]!, samplingRatio: options.samplingRatio, aligned: options.aligned });
  });
}
