import type * as tf from '@tensorflow/tfjs-core';
import { densePoseMapToJson, type DensePoseJsonOptions, type DensePoseMapJson } from '../../data/densepose-json.ts';
import { DensePoseError } from '../../errors.ts';
import { applyConfidences, type ConfidenceArrays, type ConfidenceHeadName } from './confidence.ts';
import type { ChartOutputs } from './predictor.ts';

/**
 * Per-pixel confidences at box size (`[h,w]` row-major), only those the model has (detectron2's
 * `DensePoseChartResultWithConfidences`): `sigma2`, `kappaU`, `kappaV` read from the pixel's chart
 * channel (0 on background); `fineSegm`, `coarseSegm` everywhere. `sigma1` is never produced by
 * detectron2's predictors and so never set here.
 */
export type DensePoseConfidence = Partial<Record<'sigma1' | ConfidenceHeadName, Float32Array>>;

/**
 * One person's DensePose at box size, as detectron2's chart converter makes it: row-major `[h,w]` planes.
 * `labels` 0..24 (0 = background), `u`/`v` the chart coordinates of the winning chart (0 on background).
 */
export interface DensePoseResult {
  width: number;
  height: number;
  labels: Uint8Array;
  u: Float32Array;
  v: Float32Array;
  /** Confidence maps of WC/WCM models; absent for the others. */
  confidence?: DensePoseConfidence;
  /** Interleaved `[h,w,3]` uint8 (I, U·255, V·255), quantised like detectron2 (clamp to 0..255, truncate). */
  toIUV(): Uint8Array;
  /** `JSON.stringify` form: the challenge's `uv_shape` + `uv_data` (base64 PNG of `toIUV()`), or plain arrays with `{ iuv: 'arrays' }`. */
  toJSON(options?: DensePoseJsonOptions | string): DensePoseMapJson;
}

/** Chart outputs read back to the host: NHWC `[K,H,W,C]` data per output. */
export interface ChartArrays {
  coarseSegm: Float32Array;
  fineSegm: Float32Array;
  u: Float32Array;
  v: Float32Array;
  /** K, H, W. */
  count: number;
  height: number;
  width: number;
  /** Channels of coarseSegm (2 or 15) and of the others (25). */
  segmChannels: number;
  patchChannels: number;
  /** Confidence maps after {@link applyConfidences} (per chart: patchChannels; segmentation: 1 channel). */
  confidences?: ConfidenceArrays;
}

/** Read chart outputs back; confidences (if any) are post-processed as detectron2 does, with `segmConfidenceEpsilon`. */
export async function chartOutputsToArrays(out: ChartOutputs<tf.Tensor>, segmConfidenceEpsilon = 0.01): Promise<ChartArrays> {
  const [k, h, w, s] = out.coarseSegm.shape as [number, number, number, number];
  const [coarseSegm, fineSegm, u, v] = (await Promise.all([out.coarseSegm.data(), out.fineSegm.data(), out.u.data(), out.v.data()])) as Float32Array[];
  const arrays: ChartArrays = { coarseSegm: coarseSegm!, fineSegm: fineSegm!, u: u!, v: v!, count: k, height: h, width: w, segmChannels: s, patchChannels: out.fineSegm.shape[3]! };
  const heads = Object.entries(out.confidences ?? {}) as [ConfidenceHeadName, tf.Tensor][];
  if (heads.length > 0) {
    const raw: ConfidenceArrays = {};
    for (const [name, t] of heads) raw[name] = (await t.data()) as Float32Array;
    arrays.confidences = applyConfidences(arrays, raw, segmConfidenceEpsilon);
  }
  return arrays;
}

export function makeDensePoseResult(width: number, height: number, labels: Uint8Array, u: Float32Array, v: Float32Array, confidence?: DensePoseConfidence): DensePoseResult {
  return {
    width,
    height,
    labels,
    u,
    v,
    ...(confidence ? { confidence } : {}),
    toIUV(): Uint8Array {
      const n = width * height;
      const out = new Uint8Array(3 * n);
      for (let i = 0; i < n; i++) {
        out[3 * i] = labels[i]!;
        out[3 * i + 1] = quantize(u[i]!);
        out[3 * i + 2] = quantize(v[i]!);
      }
      return out;
    },
    toJSON(options?: DensePoseJsonOptions | string): DensePoseMapJson {
      return densePoseMapToJson(this, options);
    },
  };
}

function quantize(x: number): number {
  // detectron2: (uv * 255).clamp(0, 255).byte() in float32 — truncation after a float32 product.
  const q = Math.fround(x * 255);
  return q <= 0 || Number.isNaN(q) ? 0 : q >= 255 ? 255 : Math.trunc(q);
}

/** Boxes ready for the head: clipped to the image, degenerate ones dropped (`index` maps back). */
export interface PreparedBoxes {
  /** `[K',4]` xyxy, clipped. */
  boxes: Float32Array;
  /** Index of each kept box in the input. */
  index: Int32Array;
  /** Boxes dropped for zero (or non-finite) area after clipping. */
  skipped: number;
}

/** Clip `[K,4]` xyxy boxes to `imageSize` `[h, w]` (when given) and drop those with no area. */
export function prepareBoxes(boxes: Float32Array, imageSize?: readonly [number, number]): PreparedBoxes {
  if (boxes.length % 4 !== 0) throw new DensePoseError('BAD_INPUT', `boxes: length ${boxes.length} is not a multiple of 4 (expected [K,4] xyxy)`);
  const k = boxes.length / 4;
  const kept: number[] = [];
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < k; i++) {
    let x1 = boxes[4 * i]!;
    let y1 = boxes[4 * i + 1]!;
    let x2 = boxes[4 * i + 2]!;
    let y2 = boxes[4 * i + 3]!;
    if (imageSize) {
      const [h, w] = imageSize;
      x1 = Math.min(Math.max(x1, 0), w);
      x2 = Math.min(Math.max(x2, 0), w);
      y1 = Math.min(Math.max(y1, 0), h);
      y2 = Math.min(Math.max(y2, 0), h);
    }
    if (!(x2 > x1 && y2 > y1)) continue;
    out.set([x1, y1, x2, y2], 4 * kept.length);
    kept.push(i);
  }
  return { boxes: out.slice(0, 4 * kept.length), index: Int32Array.from(kept), skipped: k - kept.length };
}

/** detectron2 `make_int_box` of XYWH: float32 `x2 − x1`, truncated toward zero, then at least 1 px. */
export function intBoxSize(x1: number, y1: number, x2: number, y2: number): [number, number] {
  const w = Math.max(Math.trunc(Math.fround(x2 - x1)), 1);
  const h = Math.max(Math.trunc(Math.fround(y2 - y1)), 1);
  return [w, h];
}

/** Linear-interpolation taps of PyTorch's bilinear resize (align_corners=False) from `inSize` to `outSize`. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

function taps(inSize: number, outSize: number): Taps {
  const t: Taps = { i0: new Int32Array(outSize), i1: new Int32Array(outSize), l0: new Float32Array(outSize), l1: new Float32Array(outSize) };
  const scale = Math.fround(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(Math.fround(Math.fround(scale * Math.fround(o + 0.5)) - 0.5), 0);
    const i0 = Math.trunc(src);
    const l1 = Math.min(Math.max(Math.fround(src - i0), 0), 1);
    t.i0[o] = i0;
    t.i1[o] = i0 + (i0 < inSize - 1 ? 1 : 0);
    t.l1[o] = l1;
    t.l0[o] = Math.fround(1 - l1);
  }
  return t;
}

/**
 * detectron2's `densepose_chart_predictor_output_to_result` for box `k` of `out`: every output resized
 * to the integer box size (bilinear, half-pixel), labels = argmax I where argmax S > 0, U/V read from
 * the label's channel. Interpolation is linear, so it is done per pixel for only the channels needed.
 */
export function chartToResult(out: ChartArrays, k: number, box: ArrayLike<number>): DensePoseResult {
  const [w, h] = intBoxSize(box[0]!, box[1]!, box[2]!, box[3]!);
  const { height: H, width: W, segmChannels: S, patchChannels: P } = out;
  const ty = taps(H, h);
  const tx = taps(W, w);
  const labels = new Uint8Array(w * h);
  const u = new Float32Array(w * h);
  const v = new Float32Array(w * h);
  const base = k * H * W;
  // Confidences: per-chart maps read at the label's channel, 1-channel (segmentation) maps everywhere.
  const conf = out.confidences ?? {};
  const perChart = (['sigma2', 'kappaU', 'kappaV'] as const).filter((n) => conf[n]).map((n) => [n, conf[n]!, new Float32Array(w * h)] as const);
  const perPixel = (['fineSegm', 'coarseSegm'] as const).filter((n) => conf[n]).map((n) => [n, conf[n]!, new Float32Array(w * h)] as const);
  const bilinear = (data: Float32Array, C: number, o00: number, o01: number, o10: number, o11: number, ly0: number, ly1: number, lx0: number, lx1: number, c: number): number =>
    ly0 * (lx0 * data[o00 * C + c]! + lx1 * data[o01 * C + c]!) + ly1 * (lx0 * data[o10 * C + c]! + lx1 * data[o11 * C + c]!);
  for (let y = 0; y < h; y++) {
    const r0 = base + ty.i0[y]! * W;
    const r1 = base + ty.i1[y]! * W;
    const ly0 = ty.l0[y]!;
    const ly1 = ty.l1[y]!;
    for (let x = 0; x < w; x++) {
      const o00 = r0 + tx.i0[x]!;
      const o01 = r0 + tx.i1[x]!;
      const o10 = r1 + tx.i0[x]!;
      const o11 = r1 + tx.i1[x]!;
      const lx0 = tx.l0[x]!;
      const lx1 = tx.l1[x]!;
      for (const [, data, plane] of perPixel) plane[y * w + x] = bilinear(data, 1, o00, o01, o10, o11, ly0, ly1, lx0, lx1, 0);
      // argmax keeps the first maximum, like torch.argmax.
      let best = Math.fround(bilinear(out.coarseSegm, S, o00, o01, o10, o11, ly0, ly1, lx0, lx1, 0));
      let fg = false;
      for (let c = 1; c < S; c++) {
        const s = Math.fround(bilinear(out.coarseSegm, S, o00, o01, o10, o11, ly0, ly1, lx0, lx1, c));
        if (s > best) {
          best = s;
          fg = true;
        }
      }
      if (!fg) continue;
      let label = 0;
      best = Math.fround(bilinear(out.fineSegm, P, o00, o01, o10, o11, ly0, ly1, lx0, lx1, 0));
      for (let c = 1; c < P; c++) {
        const s = Math.fround(bilinear(out.fineSegm, P, o00, o01, o10, o11, ly0, ly1, lx0, lx1, c));
        if (s > best) {
          best = s;
          label = c;
        }
      }
      if (label === 0) continue;
      const i = y * w + x;
      labels[i] = label;
      u[i] = bilinear(out.u, P, o00, o01, o10, o11, ly0, ly1, lx0, lx1, label);
      v[i] = bilinear(out.v, P, o00, o01, o10, o11, ly0, ly1, lx0, lx1, label);
      for (const [, data, plane] of perChart) plane[i] = bilinear(data, P, o00, o01, o10, o11, ly0, ly1, lx0, lx1, label);
    }
  }
  const planes = [...perChart, ...perPixel];
  const confidence = planes.length > 0 ? (Object.fromEntries(planes.map(([n, , p]) => [n, p])) as DensePoseConfidence) : undefined;
  return makeDensePoseResult(w, h, labels, u, v, confidence);
}

/** {@link chartToResult} for every box (`boxes` `[K,4]` xyxy, same order as the outputs). */
export function chartOutputsToResults(out: ChartArrays, boxes: Float32Array): DensePoseResult[] {
  if (boxes.length !== 4 * out.count) throw new DensePoseError('BAD_INPUT', `boxes: ${boxes.length / 4} boxes for ${out.count} predictor outputs`);
  const results: DensePoseResult[] = [];
  for (let k = 0; k < out.count; k++) results.push(chartToResult(out, k, boxes.subarray(4 * k, 4 * k + 4)));
  return results;
}
