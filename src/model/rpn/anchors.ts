/**
 * detectron2 `DefaultAnchorGenerator`: one anchor size per level, every aspect ratio, centred at
 * `(x·stride + offset·stride, y·stride + offset·stride)`. Order: location (row-major) outer, cell anchor inner —
 * the order of the RPN head's NHWC output flattened.
 */

/** Cell anchors `[A,4]` for one size: area size², `h/w = ratio`, centred at 0 (float32 like detectron2). */
export function cellAnchors(size: number, ratios: readonly number[]): Float32Array {
  const out = new Float32Array(ratios.length * 4);
  ratios.forEach((r, i) => {
    const area = size * size;
    const w = Math.sqrt(area / r);
    const h = r * w;
    out.set([-w / 2, -h / 2, w / 2, h / 2], 4 * i);
  });
  return out;
}

/** All anchors of a `height × width` level with `stride`: `[H·W·A, 4]`. */
export function gridAnchors(height: number, width: number, stride: number, cell: Float32Array, offset = 0): Float32Array {
  const a = cell.length / 4;
  const out = new Float32Array(height * width * a * 4);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const sy = y * stride + offset * stride;
    for (let x = 0; x < width; x++) {
      const sx = x * stride + offset * stride;
      for (let k = 0; k < a; k++) {
        out[o++] = sx + cell[4 * k]!;
        out[o++] = sy + cell[4 * k + 1]!;
        out[o++] = sx + cell[4 * k + 2]!;
        out[o++] = sy + cell[4 * k + 3]!;
      }
    }
  }
  return out;
}

/** What an anchor generator needs: per level a size and a stride, the aspect ratios and the centre offset. */
export interface AnchorGeometry {
  anchorSizes: readonly number[];
  aspectRatios: readonly number[];
  anchorOffset: number;
  strides: readonly number[];
}

/** Anchors per (level, map size), built once and reused (the `Rpn` module and the inference pipeline each hold one). */
export class AnchorCache {
  private readonly cache = new Map<string, Float32Array>();
  constructor(private readonly geometry: AnchorGeometry) {}
  /** Anchors `[H·W·A, 4]` of level `level` for a `height × width` map. */
  get(level: number, height: number, width: number): Float32Array {
    const key = `${level}:${height}x${width}`;
    let a = this.cache.get(key);
    if (!a) {
      const g = this.geometry;
      a = gridAnchors(height, width, g.strides[level]!, cellAnchors(g.anchorSizes[level]!, g.aspectRatios), g.anchorOffset);
      this.cache.set(key, a);
    }
    return a;
  }
}
