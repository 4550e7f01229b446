// Weighted box fusion of the teacher's detections under several test-time views (Solovyev et al. 2019),
// chosen over NMS because it averages the views' box coordinates instead of keeping one view's box.

/** Detections of all views, in original-image pixels. */
export interface ViewDetections {
  /** `[N,4]` xyxy. */
  boxes: Float32Array;
  /** `[N]`. */
  scores: Float32Array;
  /** `[N]` index of the view each detection came from. */
  views: Int32Array;
}

/** Fused people, best first. */
export interface FusedBoxes {
  /** `[K,4]` xyxy, score-weighted mean of each cluster's boxes. */
  boxes: Float32Array;
  /** `[K]` sum of the cluster's scores / number of views: a view that misses the person counts as 0. */
  scores: Float32Array;
  /** `[K]` how many views found the person. */
  support: Int32Array;
}

export interface FuseBoxesOptions {
  /** Number of views (the score's denominator). */
  viewCount: number;
  /** IoU with a cluster's fused box above which a detection joins it. @default 0.55 */
  iou?: number;
}

function iou(a: Float64Array, b: Float32Array, j: number): number {
  const x1 = Math.max(a[0]!, b[4 * j]!), y1 = Math.max(a[1]!, b[4 * j + 1]!);
  const x2 = Math.min(a[2]!, b[4 * j + 2]!), y2 = Math.min(a[3]!, b[4 * j + 3]!);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const areaA = (a[2]! - a[0]!) * (a[3]! - a[1]!);
  const areaB = (b[4 * j + 2]! - b[4 * j]!) * (b[4 * j + 3]! - b[4 * j + 1]!);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Cluster detections greedily in score order (ties: view, then position): each joins the cluster
 * whose fused box overlaps it most (IoU > `iou`) and holds no detection of its view yet, else starts
 * a cluster. Deterministic for the same input.
 */
export function fuseBoxes(d: ViewDetections, options: FuseBoxesOptions): FusedBoxes {
  const thr = options.iou ?? 0.55;
  const n = d.scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d.scores[b]! - d.scores[a]! || d.views[a]! - d.views[b]! || a - b);
  const clusters: { sum: Float64Array; weight: number; fused: Float64Array; views: Set<number> }[] = [];
  for (const j of order) {
    const view = d.views[j]!;
    let best = -1;
    let bestIou = thr;
    clusters.forEach((c, ci) => {
      if (c.views.has(view)) return;
      const o = iou(c.fused, d.boxes, j);
      if (o > bestIou) {
        bestIou = o;
        best = ci;
      }
    });
    const s = d.scores[j]!;
    if (best < 0) {
      clusters.push({ sum: new Float64Array(4), weight: 0, fused: new Float64Array(4), views: new Set() });
      best = clusters.length - 1;
    }
    const c = clusters[best]!;
    for (let q = 0; q < 4; q++) {
      c.sum[q] = c.sum[q]! + s * d.boxes[4 * j + q]!;
      c.fused[q] = c.sum[q]! / (c.weight + s);
    }
    c.weight += s;
    c.views.add(view);
  }
  const scored = clusters.map((c) => ({ c, score: c.weight / options.viewCount }));
  scored.sort((a, b) => b.score - a.score || a.c.fused[0]! - b.c.fused[0]! || a.c.fused[1]! - b.c.fused[1]!);
  const out: FusedBoxes = { boxes: new Float32Array(4 * scored.length), scores: new Float32Array(scored.length), support: new Int32Array(scored.length) };
  scored.forEach(({ c, score }, k) => {
    out.boxes.set(c.fused, 4 * k);
    out.scores[k] = score;
    out.support[k] = c.views.size;
  });
  return out;
}
