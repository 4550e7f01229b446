// DensePose AP/AR in GPS, GPSm and IOU modes, scored as detectron2's DensePoseCocoEval does
// (DESIGN.md §6). For each (detection, GT person): GT points go to image pixels
// (x = dp_x·w/255 + x0), are read from the detection's IUV box (truncated to integers relative to
// the box; outside it → miss), both GT and predicted (I, U, V) snap to the nearest vertex of their
// part, and GPS = mean exp(−d²/(2κ²)) with κ per coarse part of the GT point.
import { DensePoseError } from '../errors.ts';
import { bboxIou, decodeMask, pasteMaskRuns, rleIou, rleRuns, segmentationToRle } from '../data/mask.ts';
import type { RleRuns } from '../data/mask.ts';
import type { CocoAnnotation, CocoDataset } from '../data/coco.ts';
import type { BodyModel } from './body-model.ts';
import { denseposeParams, evaluateCells, sortByScore, summarizeDensePose, DENSEPOSE_STAT_NAMES } from './coco-eval.ts';
import type { Accumulated, EvalCell, EvalParams } from './coco-eval.ts';
import type { DensePoseDetection } from './densepose-results.ts';
import { groupBy } from './detection-eval.ts';
import { UvNearest } from './uv-nearest.ts';

export const DENSEPOSE_EVAL_MODES = ['gps', 'gpsm', 'iou'] as const;
export type DensePoseEvalMode = (typeof DENSEPOSE_EVAL_MODES)[number];

/** Coarse group of each part 0..24 (torso, hands, feet, upper legs, lower legs, upper arms, lower arms, head). */
const COARSE_PART = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8] as const;
/** κ per coarse group: mean geodesic distances (metres) of the reference evaluator. */
const KAPPA = [0, 0.351, 0.107, 0.126, 0.237, 0.173, 0.142, 0.128, 0.15] as const;

/** κ used for a GT point of part `p` (1..24). */
export function kappaForPart(p: number): number {
  return KAPPA[COARSE_PART[p] ?? 0]!;
}

/** Options of {@link evaluateDensePose}. */
export interface DensePoseEvalOptions {
  /** @default all three */
  modes?: readonly DensePoseEvalMode[];
  /** @default denseposeParams() (maxDets 20, areas all/medium/large) */
  params?: EvalParams;
}

export interface DensePoseModeResult {
  mode: DensePoseEvalMode;
  stats: number[];
  named: Record<(typeof DENSEPOSE_STAT_NAMES)[number], number>;
  accumulated: Accumulated;
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Resize a 0/1 mask `[ih, iw]` to `[oh, ow]` as `scipy.ndimage.zoom(order=1, prefilter=False)`
 * does, then threshold > 0.5: output pixel o samples input coordinate o·(in−1)/(out−1); a
 * coordinate past the last pixel (rounding) reads the constant 0.
 */
export function zoomMaskBilinear(mask: Uint8Array, ih: number, iw: number, oh: number, ow: number): Uint8Array {
  const zy = oh > 1 ? (ih - 1) / (oh - 1) : 1;
  const zx = ow > 1 ? (iw - 1) / (ow - 1) : 1;
  const out = new Uint8Array(oh * ow);
  const xs0 = new Int32Array(ow), xs1 = new Int32Array(ow), wx0 = new Float64Array(ow), wx1 = new Float64Array(ow);
  const xin = new Uint8Array(ow);
  for (let p = 0; p < ow; p++) {
    const cx = p * zx;
    if (cx > iw - 1) continue;
    xin[p] = 1;
    const x0 = Math.floor(cx);
    xs0[p] = x0;
    xs1[p] = Math.min(x0 + 1, iw - 1);
    wx0[p] = 1 - (cx - x0);
    wx1[p] = 1 - wx0[p]!;
  }
  for (let o = 0; o < oh; o++) {
    const cy = o * zy;
    if (cy > ih - 1) continue;
    const y0 = Math.floor(cy);
    const y1 = Math.min(y0 + 1, ih - 1);
    const wy0 = 1 - (cy - y0), wy1 = 1 - wy0;
    const r0 = y0 * iw, r1 = y1 * iw;
    for (let p = 0; p < ow; p++) {
      if (!xin[p]) continue;
      // Same products, same order as the reference's sum over the 2×2 neighbourhood.
      let t = 0;
      if (mask[r0 + xs0[p]!]) t += wy0 * wx0[p]!;
      if (mask[r0 + xs1[p]!]) t += wy0 * wx1[p]!;
      if (mask[r1 + xs0[p]!]) t += wy1 * wx0[p]!;
      if (mask[r1 + xs1[p]!]) t += wy1 * wx1[p]!;
      out[o * ow + p] = t > 0.5 ? 1 : 0;
    }
  }
  return out;
}

/** Paste a box mask as detectron2's `_generate_rlemask_on_image`: at (int(x), int(y)), clipped to int(x+w), int(y+h) and the image. */
function boxMaskOnImage(mask: Uint8Array | null, mh: number, mw: number, bbox: readonly number[], imH: number, imW: number): RleRuns {
  if (!mask) return { height: imH, width: imW, counts: Uint32Array.of(imH * imW) };
  const [bx, by, bw, bh] = bbox as [number, number, number, number];
  const x = Math.trunc(bx), y = Math.trunc(by);
  const cw = Math.max(0, Math.min(mw, Math.trunc(bx + bw) - x));
  const ch = Math.max(0, Math.min(mh, Math.trunc(by + bh) - y));
  let m = mask;
  if (cw < mw || ch < mh) {
    m = new Uint8Array(ch * cw);
    for (let r = 0; r < ch; r++) m.set(mask.subarray(r * mw, r * mw + cw), r * cw);
  }
  return pasteMaskRuns(m, ch, cw, x, y, imH, imW);
}

/** The union of a person's 14 coarse masks (256×256 over the box), or null without `dp_masks`. */
function denseposeMask256(a: CocoAnnotation): Uint8Array | null {
  if (!a.dp_masks) return null;
  const out = new Uint8Array(256 * 256);
  const n = Math.min(a.dp_masks.length, 14);
  for (let i = 0; i < n; i++) {
    const m = a.dp_masks[i];
    if (!m || (Array.isArray(m) && m.length === 0)) continue;
    const runs = rleRuns(m as never, `annotation id ${a.id} field "dp_masks[${i}]"`);
    if (runs.height !== 256 || runs.width !== 256) {
      throw new DensePoseError('SHAPE_MISMATCH', `dp_masks[${i}] is ${runs.height}×${runs.width}, expected 256×256`, { where: `annotation id ${a.id}` });
    }
    const d = decodeMask(runs);
    for (let k = 0; k < d.length; k++) if (d[k]) out[k] = 1;
  }
  return out;
}

/** A GT person's mask on the image, as detectron2's `computeDPIoU` builds it. */
function gtMaskRuns(a: CocoAnnotation, imH: number, imW: number): RleRuns {
  const m256 = denseposeMask256(a);
  if (m256) {
    const [, , w, h] = a.bbox;
    const oh = roundHalfEven(Math.max(h, 1)), ow = roundHalfEven(Math.max(w, 1));
    return boxMaskOnImage(zoomMaskBilinear(m256, 256, 256, oh, ow), oh, ow, a.bbox, imH, imW);
  }
  const segm = a.segmentation;
  if ((Array.isArray(segm) && segm.length > 0) || (segm && !Array.isArray(segm))) {
    return rleRuns(segmentationToRle(segm, imH, imW, `annotation id ${a.id} field "segmentation"`));
  }
  return boxMaskOnImage(null, 0, 0, a.bbox, imH, imW);
}

/** A GT person's points snapped to the mesh once, shared by every detection it is scored against. */
interface GtPoints {
  /** Point offsets from the box origin in pixels: dp_x·w/255. */
  x: Float64Array;
  y: Float64Array;
  /** Nearest vertex, -1 when the point's part has none (such points do not count). */
  vertex: Int32Array;
  kappa: Float64Array;
}

function gtPoints(a: CocoAnnotation, nearest: UvNearest): GtPoints {
  const n = a.dp_x!.length;
  const [, , w, h] = a.bbox;
  const out: GtPoints = { x: new Float64Array(n), y: new Float64Array(n), vertex: new Int32Array(n), kappa: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    out.x[k] = (a.dp_x![k]! * w) / 255;
    out.y[k] = (a.dp_y![k]! * h) / 255;
    const part = a.dp_I![k]!;
    const v = nearest.nearest(part, a.dp_U![k]!, a.dp_V![k]!);
    out.vertex[k] = v;
    out.kappa[k] = v >= 0 ? kappaForPart(nearest.body.vertexPart[v]!) : 0;
  }
  return out;
}

/** GPS of one detection against one GT person. */
export function gpsScore(gt: GtPoints, gtBox: readonly number[], det: DensePoseDetection, nearest: UvNearest): number {
  const n = gt.x.length;
  if (n === 0) return 0;
  const [gx, gy] = gtBox as [number, number];
  const [dx0, dy0, dw, dh] = det.bbox;
  const dx = Math.trunc(dw), dy = Math.trunc(dh);
  const { width: W, height: H, data } = det.iuv;
  const plane = W * H;
  let anyInside = false;
  for (let k = 0; k < n; k++) {
    const px = Math.trunc(gt.x[k]! + gx - dx0), py = Math.trunc(gt.y[k]! + gy - dy0);
    if (px < dx && py < dy && px >= 0 && py >= 0) { anyInside = true; break; }
  }
  if (!anyInside) return 0;
  const body = nearest.body;
  let sum = 0, count = 0;
  for (let k = 0; k < n; k++) {
    const vg = gt.vertex[k]!;
    if (vg < 0) continue;
    count++;
    const px = Math.trunc(gt.x[k]! + gx - dx0), py = Math.trunc(gt.y[k]! + gy - dy0);
    if (!(px < dx && py < dy && px >= 0 && py >= 0)) continue; // outside the box: predicted part 0, d = ∞
    if (py >= H || px >= W) continue;
    const o = py * W + px;
    const vp = nearest.nearestQuantised(data[o]!, data[plane + o]!, data[2 * plane + o]!);
    if (vp < 0) continue;
    const d = body.geodesic(vg, vp);
    const kp = gt.kappa[k]!;
    sum += Math.exp(-(d * d) / (2 * (kp * kp)));
  }
  return count > 0 ? sum / count : 0;
}

/**
 * DensePose evaluation of `dets` against the COCO-DensePose ground truth `gt` on `body`.
 * A GT person without `dp_x` is ignored (crowd flags still count in matching and box IoU);
 * at most 20 detections per image; areas all / medium / large.
 */
export function evaluateDensePose(gt: CocoDataset, dets: readonly DensePoseDetection[], body: BodyModel, options: DensePoseEvalOptions = {}): Record<DensePoseEvalMode, DensePoseModeResult | undefined> {
  const modes = options.modes ?? DENSEPOSE_EVAL_MODES;
  const params = options.params ?? denseposeParams();
  for (const im of gt.images) {
    const ir = (im as { ignore_regions_x?: unknown[] }).ignore_regions_x;
    if (Array.isArray(ir) && ir.length > 0) {
      throw new DensePoseError('UNSUPPORTED', `image ${im.id} has ignore_regions_x; ignore regions (PoseTrack) are not supported by this evaluator`);
    }
  }
  const maxDet = params.maxDets[params.maxDets.length - 1]!;
  const needMasks = modes.includes('gpsm') || modes.includes('iou');
  const nearest = new UvNearest(body);
  const imageIds = [...new Set(gt.images.map((im) => im.id))].sort((a, b) => a - b);
  const catIds = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const size = new Map(gt.images.map((im) => [im.id, [im.height, im.width] as const]));
  const gts = groupBy(gt.annotations, (a) => `${a.image_id}/${a.category_id}`);
  const dtsBy = groupBy(dets, (r) => `${r.image_id}/${r.category_id}`);
  const perMode = new Map<DensePoseEvalMode, Map<number, (EvalCell | null)[]>>(modes.map((m) => [m, new Map()]));
  for (const cat of catIds) {
    const rows = new Map<DensePoseEvalMode, (EvalCell | null)[]>(modes.map((m) => [m, []]));
    for (const img of imageIds) {
      const g = gts.get(`${img}/${cat}`) ?? [];
      const d = sortByScore(dtsBy.get(`${img}/${cat}`) ?? []).slice(0, maxDet);
      if (g.length === 0 && d.length === 0) {
        for (const m of modes) rows.get(m)!.push(null);
        continue;
      }
      const G = g.length, D = d.length;
      const ignore = g.map((a) => a.dp_x === undefined);
      const crowd = g.map((a) => a.iscrowd === 1);
      const gps = new Float64Array(D * G);
      let boxIou: Float64Array = new Float64Array(0);
      let maskIou: Float64Array = new Float64Array(0);
      if (G > 0 && D > 0) {
        for (let j = 0; j < G; j++) {
          if (ignore[j]) continue;
          const pts = gtPoints(g[j]!, nearest);
          for (let i = 0; i < D; i++) gps[i * G + j] = gpsScore(pts, g[j]!.bbox, d[i]!, nearest);
        }
        boxIou = bboxIou(d.map((r) => r.bbox), g.map((a) => a.bbox), crowd);
        if (needMasks) {
          const [imH, imW] = size.get(img)!;
          const gtMasks = g.map((a) => gtMaskRuns(a, imH, imW));
          const dtMasks = d.map((r) => {
            const { height, width, data } = r.iuv;
            return boxMaskOnImage(data.subarray(0, height * width), height, width, r.bbox, imH, imW);
          });
          maskIou = rleIou(dtMasks, gtMasks, crowd);
        }
      }
      const base = {
        imageId: img,
        categoryId: cat,
        gts: g.map((a, j) => ({ id: a.id, area: a.area, iscrowd: crowd[j]!, ignore: ignore[j]! })),
        dts: d.map((r) => ({ id: r.id, area: r.area, score: r.score })),
        boxIou,
      };
      for (const m of modes) {
        let sim: Float64Array;
        if (m === 'gps') sim = gps;
        else if (m === 'iou') sim = maskIou;
        else sim = maskIou.length ? gps.map((v, k) => Math.sqrt(maskIou[k]! * v)) : gps;
        rows.get(m)!.push({ ...base, sim });
      }
    }
    for (const m of modes) perMode.get(m)!.set(cat, rows.get(m)!);
  }
  const out = { gps: undefined, gpsm: undefined, iou: undefined } as Record<DensePoseEvalMode, DensePoseModeResult | undefined>;
  for (const m of modes) {
    const accumulated = evaluateCells(perMode.get(m)!, params, true);
    const stats = summarizeDensePose(accumulated);
    out[m] = { mode: m, stats, named: Object.fromEntries(DENSEPOSE_STAT_NAMES.map((n, i) => [n, stats[i]!])) as DensePoseModeResult['named'], accumulated };
  }
  return out;
}
