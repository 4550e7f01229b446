import { readNpy } from '../../src/runtime/checkpoint/npy.ts';
import { toFloat32 } from '../../src/runtime/checkpoint/ndarray.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../src/runtime/checkpoint/test-fixtures.ts';

export { FIXTURES, SKIP_FIXTURE_TESTS };

/** A fixture `.npy` as float32 with its shape. */
export function npy(rel: string): { shape: number[]; data: Float32Array } {
  const a = readNpy(`${FIXTURES}/${rel}`);
  return { shape: a.shape, data: toFloat32(a) };
}

/** NCHW `[N,C,H,W]` → NHWC data. */
export function nchwToNhwc(data: Float32Array, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = data[((b * c + ch) * h + y) * w + x]!;
  return out;
}

/** max |a − b| / max |b|: the relative error measure. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    mag = Math.max(mag, Math.abs(b[i]!));
  }
  return diff / Math.max(mag, 1e-12);
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}
