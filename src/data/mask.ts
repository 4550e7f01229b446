// COCO mask API: run-length encoding of binary masks, as pycocotools defines it.
//
// An RLE lists run lengths over the mask read in column-major order (down each column, then the
// next column to the right), alternating background and foreground and starting with background
// (so the first count may be 0). The compressed string form packs each count — for i > 2 as the
// difference to the count two places before — into 5-bit groups with a continuation bit, each
// group written as one character offset by 48. That is the form COCO JSON files carry.
import { DensePoseError } from '../errors.ts';

/** A COCO RLE in compressed-string form: `size` is [height, width]; `counts` as pycocotools writes it. */
export type Rle = { size: [number, number]; counts: string };
/** A COCO RLE with plain run lengths (COCO JSON uses it for `iscrowd` segmentations). */
export type UncompressedRle = { size: [number, number]; counts: number[] };
/** Either RLE form; every operation here accepts both. */
export type RleLike = Rle | UncompressedRle;
/** A COCO box `[x, y, width, height]` in pixels. */
export type BoxXywh = [number, number, number, number];

/** Run lengths of one mask, decoded once so that several operations can share them. */
export type RleRuns = { height: number; width: number; counts: Uint32Array };

function checkSize(height: number, width: number, where: string): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new DensePoseError('BAD_INPUT', `mask size must be two non-negative integers [height, width], got [${height}, ${width}]`, { where });
  }
}

/**
 * Run-length encode a binary mask.
 * @param mask row-major `[height, width]`, nonzero = foreground
 */
export function encodeMaskRuns(mask: Uint8Array | Uint8ClampedArray | ArrayLike<number>, height: number, width: number): RleRuns {
  checkSize(height, width, 'encodeMask');
  const n = height * width;
  if (mask.length !== n) {
    throw new DensePoseError('SHAPE_MISMATCH', `mask has ${mask.length} values, expected height·width = ${height}·${width} = ${n}`, { where: 'encodeMask' });
  }
  // At most n+1 runs; grow lazily because real masks have few.
  let counts: Uint32Array<ArrayBuffer> = new Uint32Array(Math.min(n + 1, 1024));
  let m = 0;
  let run = 0;
  let value = 0;
  for (let x = 0; x < width; x++) {
    for (let i = x; i < n; i += width) {
      const v = mask[i]! !== 0 ? 1 : 0;
      if (v !== value) {
        if (m === counts.length) counts = grow(counts, n + 1);
        counts[m++] = run;
        run = 0;
        value = v;
      }
      run++;
    }
  }
  if (m === counts.length) counts = grow(counts, n + 1);
  counts[m++] = run;
  return { height, width, counts: counts.slice(0, m) };
}

function grow(a: Uint32Array, max: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(Math.min(max, Math.max(16, a.length * 2)));
  b.set(a);
  return b;
}

/**
 * Encode a binary mask to a compressed COCO RLE (the string pycocotools' `mask.encode` gives).
 * @param mask row-major `[height, width]`, nonzero = foreground
 */
export function encodeMask(mask: Uint8Array | Uint8ClampedArray | ArrayLike<number>, height: number, width: number): Rle {
  return runsToRle(encodeMaskRuns(mask, height, width));
}

/** Compress run lengths to the COCO string form. */
export function countsToString(counts: ArrayLike<number>): string {
  const chars: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    // Counts of the same colour two places apart are close, so their difference is short.
    let x = counts[i]! - (i > 2 ? counts[i - 2]! : 0);
    for (;;) {
      let c = x & 0x1f;
      x = Math.floor(x / 32); // arithmetic shift that also works beyond 32 bits
      const more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
      if (!more) break;
    }
  }
  // String.fromCharCode with a huge spread would overflow the stack; chunk it.
  let s = '';
  for (let i = 0; i < chars.length; i += 8192) s += String.fromCharCode(...chars.slice(i, i + 8192));
  return s;
}

/** Decode the COCO string form to run lengths. */
export function stringToCounts(s: string, where = 'RLE counts'): Uint32Array {
  const out: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let c = 0;
    for (;;) {
      if (p >= s.length) {
        throw new DensePoseError('BAD_INPUT', `compressed RLE string ends inside a count at character ${p}`, { where });
      }
      c = s.charCodeAt(p++) - 48;
      if (c < 0 || c > 63) {
        throw new DensePoseError('BAD_INPUT', `character ${JSON.stringify(s[p - 1])} at ${p - 1} is not in the RLE alphabet (codes 48..111)`, { where });
      }
      x += (c & 0x1f) * 2 ** (5 * k);
      k++;
      if ((c & 0x20) === 0) break;
    }
    if ((c & 0x10) !== 0) x -= 2 ** (5 * k); // sign bit of the last group
    if (out.length > 2) x += out[out.length - 2]!;
    if (x < 0) throw new DensePoseError('BAD_INPUT', `RLE count ${out.length} decodes to a negative run (${x})`, { where });
    out.push(x);
  }
  return Uint32Array.from(out);
}

/** Read either RLE form to run lengths, checking that the runs cover exactly height·width pixels. */
export function rleRuns(rle: RleLike | RleRuns, where = 'RLE'): RleRuns {
  if (typeof rle !== 'object' || rle === null || Array.isArray(rle)) {
    throw new DensePoseError('BAD_INPUT', `an RLE must be an object {"size": [h, w], "counts": …}, got ${JSON.stringify(rle)?.slice(0, 40) ?? String(rle)}`, { where });
  }
  if ('height' in rle) return rle;
  if (!Array.isArray(rle.size) || rle.size.length !== 2) {
    throw new DensePoseError('BAD_INPUT', 'RLE needs "size": [height, width]', { where });
  }
  const [height, width] = rle.size;
  checkSize(height, width, where);
  let counts: Uint32Array;
  if (typeof rle.counts === 'string') counts = stringToCounts(rle.counts, where);
  else if (Array.isArray(rle.counts)) {
    counts = new Uint32Array(rle.counts.length);
    for (let i = 0; i < rle.counts.length; i++) {
      const c = rle.counts[i]!;
      if (!Number.isInteger(c) || c < 0) throw new DensePoseError('BAD_INPUT', `counts[${i}] = ${c} is not a non-negative integer`, { where });
      counts[i] = c;
    }
  } else {
    throw new DensePoseError('BAD_INPUT', '"counts" must be a compressed string or an array of run lengths', { where });
  }
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total !== height * width) {
    throw new DensePoseError('SHAPE_MISMATCH', `runs cover ${total} pixels, size [${height}, ${width}] has ${height * width}`, { where });
  }
  return { height, width, counts };
}

/** Run lengths → compressed RLE. */
export function runsToRle(runs: RleRuns): Rle {
  return { size: [runs.height, runs.width], counts: countsToString(runs.counts) };
}

/** Any RLE → compressed form (pycocotools `frPyObjects` of an uncompressed RLE). */
export function compressRle(rle: RleLike): Rle {
  return typeof rle.counts === 'string' ? (rle as Rle) : runsToRle(rleRuns(rle));
}

/** Any RLE → plain run lengths (the `iscrowd` JSON form). */
export function uncompressRle(rle: RleLike): UncompressedRle {
  const r = rleRuns(rle);
  return { size: [r.height, r.width], counts: Array.from(r.counts) };
}

/** Plain run lengths → compressed RLE. */
export function rleFromCounts(counts: ArrayLike<number>, height: number, width: number): Rle {
  return compressRle({ size: [height, width], counts: Array.from(counts) });
}

/** Decode an RLE to a binary mask, row-major `[height, width]`, values 0/1. */
export function decodeMask(rle: RleLike | RleRuns): Uint8Array {
  const { height, width, counts } = rleRuns(rle);
  const out = new Uint8Array(height * width);
  let t = 0; // column-major position
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (i & 1) {
      for (let j = t; j < t + c; j++) {
        const x = (j / height) | 0;
        out[(j - x * height) * width + x] = 1;
      }
    }
    t += c;
  }
  return out;
}

/** Foreground pixel count. */
export function rleArea(rle: RleLike | RleRuns): number {
  const { counts } = rleRuns(rle);
  let a = 0;
  for (let i = 1; i < counts.length; i += 2) a += counts[i]!;
  return a;
}

/**
 * Tight box `[x, y, w, h]` of the foreground, as pycocotools' `toBbox` computes it: a run that
 * continues into the next column makes the box span the full height.
 */
export function rleToBbox(rle: RleLike | RleRuns): BoxXywh {
  const { height: h, width: w, counts } = rleRuns(rle);
  let xs = w, ys = h, xe = 0, ye = 0;
  let any = false;
  let t = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (i & 1 && c > 0) {
      any = true;
      const first = t, last = t + c - 1;
      const x0 = Math.floor(first / h), x1 = Math.floor(last / h);
      const y0 = first - x0 * h, y1 = last - x1 * h;
      if (x0 < xs) xs = x0;
      if (x1 > xe) xe = x1;
      if (x0 < x1) {
        ys = 0;
        ye = h - 1;
      } else {
        if (y0 < ys) ys = y0;
        if (y1 > ye) ye = y1;
      }
    }
    t += c;
  }
  return any ? [xs, ys, xe - xs + 1, ye - ys + 1] : [0, 0, 0, 0];
}

/** Union (default) or intersection of masks of one size. */
export function mergeRles(rles: readonly (RleLike | RleRuns)[], intersect = false): Rle {
  return runsToRle(mergeRuns(rles.map((r, i) => rleRuns(r, `mergeRles[${i}]`)), intersect));
}

/** {@link mergeRles} on decoded runs. */
export function mergeRuns(runs: readonly RleRuns[], intersect = false): RleRuns {
  if (runs.length === 0) return { height: 0, width: 0, counts: new Uint32Array(0) };
  const first = runs[0]!;
  let acc = first;
  for (let k = 1; k < runs.length; k++) {
    const b = runs[k]!;
    if (b.height !== first.height || b.width !== first.width) {
      throw new DensePoseError('SHAPE_MISMATCH', `mask ${k} is ${b.height}×${b.width}, mask 0 is ${first.height}×${first.width}`, { where: 'mergeRles' });
    }
    acc = combine(acc, b, intersect);
  }
  if (runs.length === 1) acc = combine(first, first, false); // canonical form
  return acc;
}

/** Sweep both run lists at once and emit runs of the combined value, coalescing equal neighbours. */
function combine(a: RleRuns, b: RleRuns, intersect: boolean): RleRuns {
  const n = a.height * a.width;
  const out: number[] = [];
  let ia = 0, ib = 0; // index of the current run
  let ra = a.counts[0] ?? 0, rb = b.counts[0] ?? 0; // pixels left in it
  let pos = 0;
  let cur = 0, len = 0;
  while (pos < n) {
    while (ra === 0 && ia < a.counts.length - 1) ra = a.counts[++ia]!;
    while (rb === 0 && ib < b.counts.length - 1) rb = b.counts[++ib]!;
    const step = Math.min(ra, rb);
    if (step === 0) break; // malformed, guarded by rleRuns' coverage check
    const va = ia & 1, vb = ib & 1;
    const v = intersect ? va & vb : va | vb;
    if (v !== cur) {
      out.push(len);
      len = 0;
      cur = v;
    }
    len += step;
    ra -= step;
    rb -= step;
    pos += step;
  }
  out.push(len);
  return { height: a.height, width: a.width, counts: Uint32Array.from(out) };
}

/** Foreground pixels common to two masks of one size (no decoding). */
export function intersectionArea(a: RleRuns, b: RleRuns): number {
  let ia = 0, ib = 0;
  let ra = a.counts[0] ?? 0, rb = b.counts[0] ?? 0;
  let inter = 0;
  const na = a.counts.length, nb = b.counts.length;
  for (;;) {
    while (ra === 0 && ia < na - 1) ra = a.counts[++ia]!;
    while (rb === 0 && ib < nb - 1) rb = b.counts[++ib]!;
    const step = ra < rb ? ra : rb;
    if (step === 0) break;
    if (ia & ib & 1) inter += step;
    ra -= step;
    rb -= step;
  }
  return inter;
}

/**
 * IoU matrix between detections and ground truths, row-major `[dt.length, gt.length]`.
 * For a crowd ground truth the denominator is the detection's area (pycocotools' rule), so a
 * detection lying inside a crowd region scores 1.
 */
export function rleIou(dt: readonly (RleLike | RleRuns)[], gt: readonly (RleLike | RleRuns)[], iscrowd: readonly (boolean | number)[]): Float64Array {
  const d = dt.map((r, i) => rleRuns(r, `rleIou dt[${i}]`));
  const g = gt.map((r, i) => rleRuns(r, `rleIou gt[${i}]`));
  const areaD = d.map(rleArea), areaG = g.map(rleArea);
  const boxD = d.map(rleToBbox), boxG = g.map(rleToBbox);
  const out = new Float64Array(d.length * g.length);
  for (let i = 0; i < d.length; i++) {
    for (let j = 0; j < g.length; j++) {
      const a = d[i]!, b = g[j]!;
      if (a.height !== b.height || a.width !== b.width) {
        throw new DensePoseError('SHAPE_MISMATCH', `dt[${i}] is ${a.height}×${a.width}, gt[${j}] is ${b.height}×${b.width}`, { where: 'rleIou' });
      }
      // Disjoint boxes cannot overlap; skip the sweep.
      if (boxIou(boxD[i]!, boxG[j]!, false) <= 0) continue;
      const inter = intersectionArea(a, b);
      if (inter === 0) continue;
      const union = iscrowd[j] ? areaD[i]! : areaD[i]! + areaG[j]! - inter;
      out[i * g.length + j] = inter / union;
    }
  }
  return out;
}

function boxIou(d: BoxXywh, g: BoxXywh, crowd: boolean): number {
  const w = Math.min(d[0] + d[2], g[0] + g[2]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[1] + d[3], g[1] + g[3]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const inter = w * h;
  const union = crowd ? d[2] * d[3] : d[2] * d[3] + g[2] * g[3] - inter;
  return inter / union;
}

/** Box IoU matrix `[dt.length, gt.length]` with pycocotools' crowd rule (denominator = detection area). */
export function bboxIou(dt: readonly BoxXywh[], gt: readonly BoxXywh[], iscrowd: readonly (boolean | number)[]): Float64Array {
  const out = new Float64Array(dt.length * gt.length);
  for (let i = 0; i < dt.length; i++) {
    for (let j = 0; j < gt.length; j++) out[i * gt.length + j] = boxIou(dt[i]!, gt[j]!, Boolean(iscrowd[j]));
  }
  return out;
}

/**
 * Rasterise one polygon `[x0, y0, x1, y1, …]` (pixel coordinates, pixel centres at integers + 0.5
 * as COCO draws them) on a `height × width` image, exactly as pycocotools does: the outline is
 * traced on a 5× finer grid, and each column keeps the rows where the outline crosses it.
 */
export function polygonToRuns(xy: ArrayLike<number>, height: number, width: number): RleRuns {
  checkSize(height, width, 'polygonToRle');
  const k = Math.floor(xy.length / 2);
  const scale = 5;
  const px = new Int32Array(k + 1), py = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) {
    px[j] = Math.trunc(scale * xy[2 * j]! + 0.5);
    py[j] = Math.trunc(scale * xy[2 * j + 1]! + 0.5);
  }
  px[k] = px[0]!;
  py[k] = py[0]!;
  // Dense outline on the fine grid: one point per step along the major axis of each edge.
  let total = 0;
  for (let j = 0; j < k; j++) total += Math.max(Math.abs(px[j]! - px[j + 1]!), Math.abs(py[j]! - py[j + 1]!)) + 1;
  const u = new Int32Array(total), v = new Int32Array(total);
  let m = 0;
  for (let j = 0; j < k; j++) {
    let xs = px[j]!, xe = px[j + 1]!, ys = py[j]!, ye = py[j + 1]!;
    const dx = Math.abs(xe - xs), dy = Math.abs(ys - ye);
    // Trace every edge in increasing major coordinate so rounding is the same whichever way it runs.
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    if (dx >= dy) {
      const s = dx === 0 ? 0 : (ye - ys) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = Math.trunc(ys + s * t + 0.5);
        m++;
      }
    } else {
      const s = (xe - xs) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = Math.trunc(xs + s * t + 0.5);
        m++;
      }
    }
  }
  // Where the outline steps to another fine column that is a pixel-centre column, it marks a
  // boundary (column x, first row inside/outside y).
  const bounds: number[] = [];
  for (let j = 1; j < m; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) continue;
    let yd = Math.min(v[j]!, v[j - 1]!);
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > height) yd = height;
    yd = Math.ceil(yd);
    bounds.push(xd * height + yd);
  }
  bounds.push(height * width);
  const a = Float64Array.from(bounds).sort();
  // Boundaries toggle inside/outside; a repeated boundary cancels (zero-length run merged away).
  const counts: number[] = [];
  let prev = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j]!;
    a[j] = t - prev;
    prev = t;
  }
  let j = 0;
  counts.push(a[j++]!);
  while (j < a.length) {
    if (a[j]! > 0) counts.push(a[j++]!);
    else {
      j++;
      if (j < a.length) counts[counts.length - 1]! += a[j++]!;
    }
  }
  return { height, width, counts: Uint32Array.from(counts) };
}

/** Rasterise polygons (COCO `segmentation` lists) to one RLE each, as `mask.frPyObjects` does. */
export function polygonsToRle(polygons: readonly ArrayLike<number>[], height: number, width: number): Rle[] {
  return polygons.map((p) => runsToRle(polygonToRuns(p, height, width)));
}

/** Boxes `[x, y, w, h]` to RLEs, as `mask.frPyObjects` does (a box is drawn as its 4-corner polygon). */
export function boxesToRle(boxes: readonly BoxXywh[], height: number, width: number): Rle[] {
  return boxes.map(([x, y, w, h]) => runsToRle(polygonToRuns([x, y, x, y + h, x + w, y + h, x + w, y], height, width)));
}

/**
 * A COCO `segmentation` field (polygon list, uncompressed or compressed RLE) to one RLE of the
 * image, as pycocotools' `annToRLE` does (polygons of one object are merged).
 */
export function segmentationToRle(segm: unknown, height: number, width: number, where = 'segmentation'): Rle {
  if (Array.isArray(segm)) {
    const polys = segm as unknown[];
    if (polys.length === 0) return runsToRle({ height, width, counts: Uint32Array.of(height * width) });
    for (let i = 0; i < polys.length; i++) {
      const p = polys[i];
      if (!Array.isArray(p) || p.length < 6 || p.some((c) => typeof c !== 'number' || !Number.isFinite(c))) {
        throw new DensePoseError('BAD_INPUT', `polygon ${i} must be at least 6 finite numbers [x0, y0, x1, y1, …]`, { where });
      }
    }
    return runsToRle(mergeRuns(polys.map((p) => polygonToRuns(p as number[], height, width))));
  }
  if (segm && typeof segm === 'object' && 'counts' in segm && 'size' in segm) {
    return runsToRle(rleRuns(segm as RleLike, where));
  }
  throw new DensePoseError('BAD_INPUT', 'expected a list of polygons or an RLE {size, counts}', { where });
}

/**
 * RLE of an image that is zero except for a box-local mask pasted with its top-left corner at
 * (x, y) and clipped to the image, without materialising the image.
 * @param mask row-major `[mh, mw]`, nonzero = foreground
 */
export function pasteMaskRuns(mask: Uint8Array, mh: number, mw: number, x: number, y: number, height: number, width: number): RleRuns {
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  // Append `len` pixels of value `v`, merging with the current run.
  const emit = (v: number, len: number): void => {
    if (len === 0) return;
    if (v !== value) {
      counts.push(run);
      run = 0;
      value = v;
    }
    run += len;
  };
  const x0 = Math.max(x, 0), x1 = Math.min(x + mw, width);
  const y0 = Math.max(y, 0), y1 = Math.min(y + mh, height);
  for (let c = 0; c < width; c++) {
    if (c < x0 || c >= x1 || y0 >= y1) {
      emit(0, height);
      continue;
    }
    emit(0, y0);
    for (let r = y0; r < y1; r++) emit(mask[(r - y) * mw + (c - x)]! !== 0 ? 1 : 0, 1);
    emit(0, height - y1);
  }
  counts.push(run);
  return { height, width, counts: Uint32Array.from(counts) };
}
