/**
 * Box arithmetic on typed arrays, as detectron2 / torchvision do it: boxes are `Float32Array [K,4]`
 * (x1, y1, x2, y2, input pixels). Results are stored in float32 like the reference tensors.
 */

/** detectron2's clamp on dw/dh before exp: log(1000/16). */
export const SCALE_CLAMP = Math.log(1000 / 16);

export type BoxWeights = readonly [number, number, number, number];

/**
 * `Box2BoxTransform.apply_deltas`: deltas `[K, 4·M]` applied to boxes `[K,4]` → `[K, 4·M]`
 * (M = classes for class-specific regression, 1 otherwise).
 */
export function applyDeltas(deltas: Float32Array, boxes: Float32Array, weights: BoxWeights, clamp = SCALE_CLAMP): Float32Array {
  const k = boxes.length / 4;
  const per = k === 0 ? 4 : deltas.length / k;
  const out = new Float32Array(deltas.length);
  const f = Math.fround;
  const [wx, wy, ww, wh] = weights;
  for (let i = 0; i < k; i++) {
    const x1 = boxes[4 * i]!;
    const y1 = boxes[4 * i + 1]!;
    const w = f(boxes[4 * i + 2]! - x1);
    const h = f(boxes[4 * i + 3]! - y1);
    const cx = f(x1 + f(0.5 * w));
    const cy = f(y1 + f(0.5 * h));
    for (let j = 0; j < per; j += 4) {
      const d = i * per + j;
      const dx = f(deltas[d]! / wx);
      const dy = f(deltas[d + 1]! / wy);
      const dw = Math.min(f(deltas[d + 2]! / ww), f(clamp));
      const dh = Math.min(f(deltas[d + 3]! / wh), f(clamp));
      const pcx = f(f(dx * w) + cx);
      const pcy = f(f(dy * h) + cy);
      const pw = f(f(Math.exp(dw)) * w);
      const ph = f(f(Math.exp(dh)) * h);
      out[d] = pcx - f(0.5 * pw);
      out[d + 1] = pcy - f(0.5 * ph);
      out[d + 2] = pcx + f(0.5 * pw);
      out[d + 3] = pcy + f(0.5 * ph);
    }
  }
  return out;
}

/** `Box2BoxTransform.get_deltas`: the deltas that take `src [K,4]` to `target [K,4]`. */
export function getDeltas(src: Float32Array, target: Float32Array, weights: BoxWeights): Float32Array {
  const out = new Float32Array(src.length);
  const [wx, wy, ww, wh] = weights;
  for (let i = 0; i < src.length; i += 4) {
    const sw = src[i + 2]! - src[i]!;
    const sh = src[i + 3]! - src[i + 1]!;
    const sx = src[i]! + 0.5 * sw;
    const sy = src[i + 1]! + 0.5 * sh;
    const tw = target[i + 2]! - target[i]!;
    const th = target[i + 3]! - target[i + 1]!;
    const tx = target[i]! + 0.5 * tw;
    const ty = target[i + 1]! + 0.5 * th;
    out[i] = (wx * (tx - sx)) / sw;
    out[i + 1] = (wy * (ty - sy)) / sh;
    out[i + 2] = ww * Math.log(tw / sw);
    out[i + 3] = wh * Math.log(th / sh);
  }
  return out;
}

/** Clamp x to [0, width] and y to [0, height] in place (`Boxes.clip`). */
export function clipBoxes(boxes: Float32Array, height: number, width: number): Float32Array {
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = Math.min(Math.max(boxes[i]!, 0), width);
    boxes[i + 1] = Math.min(Math.max(boxes[i + 1]!, 0), height);
    boxes[i + 2] = Math.min(Math.max(boxes[i + 2]!, 0), width);
    boxes[i + 3] = Math.min(Math.max(boxes[i + 3]!, 0), height);
  }
  return boxes;
}

/** Row `i` of `[K,4]`. */
export function boxAt(boxes: Float32Array, i: number): Float32Array {
  return boxes.subarray(4 * i, 4 * i + 4);
}

/** Rows `idx` of `[K,4]`. */
export function gatherBoxes(boxes: Float32Array, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * 4);
  for (let j = 0; j < idx.length; j++) out.set(boxAt(boxes, idx[j]!), 4 * j);
  return out;
}

export function gather(values: Float32Array, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = values[idx[j]!]!;
  return out;
}

/** Pairwise IoU `[A,B]` (torchvision `box_iou`; empty boxes give 0). */
export function pairwiseIou(a: Float32Array, b: Float32Array): Float32Array {
  const na = a.length / 4;
  const nb = b.length / 4;
  const out = new Float32Array(na * nb);
  for (let i = 0; i < na; i++) {
    const areaA = (a[4 * i + 2]! - a[4 * i]!) * (a[4 * i + 3]! - a[4 * i + 1]!);
    for (let j = 0; j < nb; j++) {
      const areaB = (b[4 * j + 2]! - b[4 * j]!) * (b[4 * j + 3]! - b[4 * j + 1]!);
      const iw = Math.min(a[4 * i + 2]!, b[4 * j + 2]!) - Math.max(a[4 * i]!, b[4 * j]!);
      const ih = Math.min(a[4 * i + 3]!, b[4 * j + 3]!) - Math.max(a[4 * i + 1]!, b[4 * j + 1]!);
      const inter = Math.max(iw, 0) * Math.max(ih, 0);
      out[i * nb + j] = inter > 0 ? inter / (areaA + areaB - inter) : 0;
    }
  }
  return out;
}

/** Indices sorting `scores` descending; ties keep index order. */
export function argsortDescending(scores: ArrayLike<number>, idx?: ArrayLike<number>): Int32Array {
  const order = idx ? Int32Array.from(idx) : Int32Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((p, q) => scores[q]! - scores[p]! || p - q);
}

/**
 * Greedy NMS as torchvision's CPU kernel: visit boxes by descending score, suppress later boxes with
 * IoU > `threshold` (IoU in float32). Returns kept indices (into `boxes`) by descending score.
 * `subset` restricts to those indices; `maxKeep` stops after that many kept boxes (the first `maxKeep`
 * of the full result, so callers that keep only the top k lose nothing).
 */
export function nms(boxes: Float32Array, scores: Float32Array, threshold: number, subset?: ArrayLike<number>, maxKeep = Infinity): Int32Array {
  const order = argsortDescending(scores, subset);
  const n = order.length;
  const f = Math.fround;
  const x1 = new Float32Array(n);
  const y1 = new Float32Array(n);
  const x2 = new Float32Array(n);
  const y2 = new Float32Array(n);
  const area = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = order[i]! * 4;
    x1[i] = boxes[b]!;
    y1[i] = boxes[b + 1]!;
    x2[i] = boxes[b + 2]!;
    y2[i] = boxes[b + 3]!;
    area[i] = (x2[i]! - x1[i]!) * (y2[i]! - y1[i]!);
  }
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let i = 0; i < n && keep.length < maxKeep; i++) {
    if (suppressed[i]) continue;
    keep.push(order[i]!);
    for (let j = i + 1; j < n; j++) {
      if (suppressed[j]) continue;
      const w = Math.max(0, f(Math.min(x2[i]!, x2[j]!) - Math.max(x1[i]!, x1[j]!)));
      const h = Math.max(0, f(Math.min(y2[i]!, y2[j]!) - Math.max(y1[i]!, y1[j]!)));
      const inter = f(w * h);
      const iou = f(inter / f(f(area[i]! + area[j]!) - inter));
      if (iou > threshold) suppressed[j] = 1;
    }
  }
  return Int32Array.from(keep);
}

/**
 * torchvision `batched_nms`: NMS within each group id; kept indices by descending score. With `topK`, only
 * the first `topK` of that result are returned — exactly, since each group stops after `topK` keeps: a
 * group's later keeps have `topK` higher-ranked boxes of their own group ahead of them.
 */
export function batchedNms(boxes: Float32Array, scores: Float32Array, groups: Int32Array, threshold: number, topK = Infinity): Int32Array {
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(i);
  }
  const kept: number[] = [];
  for (const idx of byGroup.values()) kept.push(...nms(boxes, scores, threshold, idx, topK));
  const order = argsortDescending(scores, kept);
  return order.length > topK ? order.subarray(0, topK) : order;
}
