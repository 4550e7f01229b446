// Ensembling one person's chart outputs from several test-time views on a common grid over its box:
// probabilities averaged, flipped views mirrored back through the body's symmetry, U/V averaged in
// the winning part.
import { DensePoseError } from '../../errors.ts';
import type { ChartArrays } from '../../model/densepose/postprocess.ts';
import type { FlipSymmetry } from '../sample.ts';

/** One view's chart outputs for a batch of boxes; box `k` of `arrays` is the person being fused. */
export interface ViewChart {
  arrays: ChartArrays;
  k: number;
  /** The view saw the image mirrored: its outputs are mirrored and in mirrored parts. */
  flipped: boolean;
}

/** The ensembled person on a `[height,width]` row-major grid over the box (cell centres at (i + 0.5)/size). */
export interface FusedChart {
  width: number;
  height: number;
  /** Fine part 0..24 (0 = background). */
  labels: Uint8Array;
  /** Mean over views of U, V in the winning part, clamped to [0,1]; 0 on background. */
  u: Float32Array;
  v: Float32Array;
  /** Mean over views of the winning part's probability (softmax of the fine scores). */
  confidence: Float32Array;
}

/** Flip tables derived from a {@link FlipSymmetry}, checked to be a mirror (an involution). */
export interface FlipTables {
  symmetry: FlipSymmetry;
  /** `[25]` fine part a mirrored view's channel stands for in the original image. */
  fineSwap: Uint8Array;
  /** `[15]` the same for coarse parts (index 0 = background). */
  coarseSwap: Uint8Array;
}

/**
 * Tables of a symmetry. A mirror applied twice is the identity, so the map taking a mirrored view's
 * (I, U, V) back to the original is the symmetry itself; that is checked on a few points.
 */
export function flipTables(symmetry: FlipSymmetry): FlipTables {
  const fineSwap = new Uint8Array(25);
  for (let p = 1; p <= 24; p++) {
    for (const [u, v] of [[0.2, 0.3], [0.5, 0.5], [0.9, 0.1]] as const) {
      const [q, u1, v1] = symmetry.flipPoint(p, u, v);
      const [p2, u2, v2] = symmetry.flipPoint(q, u1, v1);
      if (!(q >= 1 && q <= 24) || p2 !== p || Math.abs(u2 - u) > 0.02 || Math.abs(v2 - v) > 0.02) {
        throw new DensePoseError('BAD_OPTION', `flip symmetry is not a mirror: part ${p} (${u}, ${v}) → ${q} (${u1}, ${v1}) → ${p2} (${u2}, ${v2})`, { where: 'distill symmetry' });
      }
      fineSwap[p] = q;
    }
  }
  const coarseSwap = new Uint8Array(15);
  for (let c = 0; c < 15; c++) coarseSwap[c] = c === 0 ? 0 : symmetry.coarseSwap[c] ?? c;
  return { symmetry, fineSwap, coarseSwap };
}

/** Bilinear taps (PyTorch half-pixel convention, edges clamped) sampling `size` cells at relative positions `rel`. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  l1: Float32Array;
}

function taps(rel: Float64Array, size: number): Taps {
  const t: Taps = { i0: new Int32Array(rel.length), i1: new Int32Array(rel.length), l1: new Float32Array(rel.length) };
  for (let o = 0; o < rel.length; o++) {
    const src = Math.min(Math.max(rel[o]! * size - 0.5, 0), size - 1);
    const i0 = Math.floor(src);
    t.i0[o] = i0;
    t.i1[o] = Math.min(i0 + 1, size - 1);
    t.l1[o] = src - i0;
  }
  return t;
}

function cellCentres(n: number, mirror: boolean): Float64Array {
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = mirror ? 1 - (i + 0.5) / n : (i + 0.5) / n;
  return r;
}

/** Channel `c` of a `[·,C]` map, bilinear between four taps. */
function bilinearAt(data: Float32Array, C: number, c: number, o00: number, o01: number, o10: number, o11: number, lx: number, ly: number): number {
  const top = data[o00 * C + c]! + lx * (data[o01 * C + c]! - data[o00 * C + c]!);
  const bot = data[o10 * C + c]! + lx * (data[o11 * C + c]! - data[o10 * C + c]!);
  return top + ly * (bot - top);
}

/** Bilinear sample of `C` logits at four taps, softmax, added to `acc[cell]` (channels permuted by `map`). */
function accumulateSoftmax(data: Float32Array, C: number, acc: Float64Array, map: Uint8Array | null, o00: number, o01: number, o10: number, o11: number, lx: number, ly: number, cell: number, logits: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    const top = data[o00 * C + c]! + lx * (data[o01 * C + c]! - data[o00 * C + c]!);
    const bot = data[o10 * C + c]! + lx * (data[o11 * C + c]! - data[o10 * C + c]!);
    const x = top + ly * (bot - top);
    logits[c] = x;
    if (x > max) max = x;
  }
  let sum = 0;
  for (let c = 0; c < C; c++) sum += logits[c] = Math.exp(logits[c]! - max);
  for (let c = 0; c < C; c++) {
    const o = cell * C + (map ? map[c]! : c);
    acc[o] = acc[o]! + logits[c]! / sum;
  }
}

/**
 * Fuse the views of one person onto a `[gridH, gridW]` grid. Each view's outputs cover the box as
 * it appears in that view; a flipped view is read mirrored (x ↦ 1 − x in the box frame), its fine and
 * coarse channels permuted by the part swap and its U/V mapped through the symmetry for the winning
 * part. Fine and coarse probabilities are averaged over views; label = argmax fine where argmax
 * coarse is foreground (detectron2's rule); U/V = mean over views of the winning part's U/V.
 */
export function fuseCharts(views: readonly ViewChart[], gridH: number, gridW: number, flip?: FlipTables): FusedChart {
  if (views.length === 0) throw new DensePoseError('BAD_INPUT', 'fuseCharts needs at least one view');
  if (views.some((v) => v.flipped) && !flip) throw new DensePoseError('BAD_OPTION', 'a flipped view needs a flip symmetry', { where: 'distill symmetry' });
  const S = views[0]!.arrays.segmChannels;
  const P = views[0]!.arrays.patchChannels;
  if (P !== 25 || (S !== 2 && S !== 15) || views.some((v) => v.arrays.segmChannels !== S || v.arrays.patchChannels !== P)) {
    throw new DensePoseError('SHAPE_MISMATCH', `views must all have 2 or 15 coarse and 25 fine channels, got ${views.map((v) => `${v.arrays.segmChannels}/${v.arrays.patchChannels}`).join(', ')}`);
  }
  const n = gridH * gridW;
  const fine = new Float64Array(n * P);
  const coarse = new Float64Array(n * S);
  const rowsRel = cellCentres(gridH, false);
  const prepared = views.map((view) => {
    const a = view.arrays;
    return { view, ty: taps(rowsRel, a.height), tx: taps(cellCentres(gridW, view.flipped), a.width), base: view.k * a.height * a.width };
  });
  const logits = new Float64Array(Math.max(P, S));
  // Pass 1: mean of fine and coarse probabilities.
  for (const { view, ty, tx, base } of prepared) {
    const a = view.arrays;
    const fineMap = view.flipped ? flip!.fineSwap : null;
    const coarseMap = view.flipped && S === 15 ? flip!.coarseSwap : null;
    for (let gy = 0; gy < gridH; gy++) {
      const r0 = base + ty.i0[gy]! * a.width, r1 = base + ty.i1[gy]! * a.width, ly = ty.l1[gy]!;
      for (let gx = 0; gx < gridW; gx++) {
        const c0 = tx.i0[gx]!, c1 = tx.i1[gx]!, lx = tx.l1[gx]!;
        const o00 = r0 + c0, o01 = r0 + c1, o10 = r1 + c0, o11 = r1 + c1;
        const cell = gy * gridW + gx;
        accumulateSoftmax(a.fineSegm, P, fine, fineMap, o00, o01, o10, o11, lx, ly, cell, logits);
        accumulateSoftmax(a.coarseSegm, S, coarse, coarseMap, o00, o01, o10, o11, lx, ly, cell, logits);
      }
    }
  }
  const T = views.length;
  const out: FusedChart = { width: gridW, height: gridH, labels: new Uint8Array(n), u: new Float32Array(n), v: new Float32Array(n), confidence: new Float32Array(n) };
  for (let cell = 0; cell < n; cell++) {
    let bestS = 0;
    for (let c = 1; c < S; c++) if (coarse[cell * S + c]! > coarse[cell * S + bestS]!) bestS = c;
    let best = 0;
    for (let c = 1; c < P; c++) if (fine[cell * P + c]! > fine[cell * P + best]!) best = c;
    out.confidence[cell] = fine[cell * P + best]! / T;
    out.labels[cell] = bestS > 0 ? best : 0;
  }
  // Pass 2: U/V of the winning part, read from the channel that part has in each view.
  const uSum = new Float64Array(n), vSum = new Float64Array(n);
  for (const { view, ty, tx, base } of prepared) {
    const a = view.arrays;
    for (let gy = 0; gy < gridH; gy++) {
      const r0 = base + ty.i0[gy]! * a.width, r1 = base + ty.i1[gy]! * a.width, ly = ty.l1[gy]!;
      for (let gx = 0; gx < gridW; gx++) {
        const cell = gy * gridW + gx;
        const I = out.labels[cell]!;
        if (I === 0) continue;
        const c = view.flipped ? flip!.fineSwap[I]! : I;
        const c0 = tx.i0[gx]!, c1 = tx.i1[gx]!, lx = tx.l1[gx]!;
        const o00 = r0 + c0, o01 = r0 + c1, o10 = r1 + c0, o11 = r1 + c1;
        let u = bilinearAt(a.u, P, c, o00, o01, o10, o11, lx, ly);
        let v = bilinearAt(a.v, P, c, o00, o01, o10, o11, lx, ly);
        if (view.flipped) [, u, v] = flip!.symmetry.flipPoint(c, u, v);
        uSum[cell] = uSum[cell]! + u;
        vSum[cell] = vSum[cell]! + v;
      }
    }
  }
  for (let cell = 0; cell < n; cell++) {
    if (out.labels[cell] === 0) continue;
    out.u[cell] = Math.min(Math.max(uSum[cell]! / T, 0), 1);
    out.v[cell] = Math.min(Math.max(vSum[cell]! / T, 0), 1);
  }
  return out;
}
