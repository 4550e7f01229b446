import { flipDenseIuv } from '../data/dense-iuv.ts';
import type { FlipSymmetry, PersonDensePose, PersonTarget } from './sample.ts';

/** Horizontal flip of an RGB `[H,W,3]` image, in place. */
export function flipImageInPlace(rgb: Uint8Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    let a = y * width * 3;
    let b = a + (width - 1) * 3;
    while (a < b) {
      for (let c = 0; c < 3; c++) {
        const t = rgb[a + c]!;
        rgb[a + c] = rgb[b + c]!;
        rgb[b + c] = t;
      }
      a += 3;
      b -= 3;
    }
  }
}

/**
 * Mirror a person: the box about the image's vertical axis, points about the box's
 * (x → 255 − x, as detectron2 does for the 256 frame), parts and U/V through the body's symmetry,
 * coarse masks mirrored with left/right parts swapped.
 */
export function flipPerson(p: PersonTarget, imageWidth: number, sym: FlipSymmetry): PersonTarget {
  const [x1, y1, x2, y2] = p.box;
  const box: PersonTarget['box'] = [imageWidth - x2, y1, imageWidth - x1, y2];
  if (!p.densepose) return { ...p, box };
  const d = p.densepose;
  const n = d.x.length;
  const out: PersonDensePose = {
    x: new Float32Array(n),
    y: Float32Array.from(d.y),
    i: new Uint8Array(n),
    u: new Float32Array(n),
    v: new Float32Array(n),
    weight: d.weight ? Float32Array.from(d.weight) : undefined,
  };
  for (let k = 0; k < n; k++) {
    out.x[k] = 255 - d.x[k]!;
    const [i, u, v] = sym.flipPoint(d.i[k]!, d.u[k]!, d.v[k]!);
    out.i[k] = i;
    out.u[k] = u;
    out.v[k] = v;
  }
  if (d.masks) {
    const m = new Uint8Array(256 * 256);
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) m[y * 256 + (255 - x)] = sym.coarseSwap[d.masks[y * 256 + x]!]!;
    }
    out.masks = m;
  }
  if (d.dense) out.dense = flipDenseIuv(d.dense, (i, u, v) => sym.flipPoint(i, u, v));
  return { ...p, box, densepose: out };
}

/** Shortest side → `target`, longest ≤ `maxSize` (detectron2 ResizeShortestEdge). Returns the scale and new size. */
export function resizeShortestEdge(width: number, height: number, target: number, maxSize: number): { scale: number; width: number; height: number } {
  let scale = target / Math.min(width, height);
  if (Math.max(width, height) * scale > maxSize) scale = maxSize / Math.max(width, height);
  return { scale, width: Math.round(width * scale), height: Math.round(height * scale) };
}
