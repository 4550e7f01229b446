import { DensePoseError } from '../../errors.ts';
import { allocTyped, numel } from './ndarray.ts';
import type { NdArray } from './ndarray.ts';

/**
 * Transpose `arr` so that output axis i is input axis `perm[i]` (numpy's `arr.transpose(perm)`),
 * returning a new C-order array. Walks the output in order with an incrementally updated source offset.
 */
export function permute(arr: NdArray, perm: readonly number[], what = 'array'): NdArray {
  const k = arr.shape.length;
  if (perm.length !== k || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new DensePoseError('BAD_INPUT', `${what}: permutation [${perm.join(', ')}] does not fit shape [${arr.shape.join(', ')}]`);
  }
  const shape = perm.map((p) => arr.shape[p]!);
  const n = numel(shape);
  const inStride = new Array<number>(k);
  let s = 1;
  for (let j = k - 1; j >= 0; j--) {
    inStride[j] = s;
    s *= arr.shape[j]!;
  }
  const stride = perm.map((p) => inStride[p]!); // source stride of each output axis
  const out = allocTyped(arr.dtype, n);
  const src = arr.data as unknown as ArrayLike<number>;
  const dst = out as unknown as { [i: number]: number };
  if (k === 0 || n === 0) {
    if (n === 1) dst[0] = src[0]!;
    return { dtype: arr.dtype, shape, data: out };
  }
  const last = k - 1;
  const lastLen = shape[last]!;
  const lastStride = stride[last]!;
  const idx = new Array<number>(k).fill(0);
  let base = 0;
  for (let o = 0; o < n; o += lastLen) {
    // innermost axis as a tight loop; outer axes as an odometer
    for (let i = 0, f = base; i < lastLen; i++, f += lastStride) dst[o + i] = src[f]!;
    for (let j = last - 1; j >= 0; j--) {
      idx[j]!++;
      base += stride[j]!;
      if (idx[j]! < shape[j]!) break;
      base -= stride[j]! * shape[j]!;
      idx[j] = 0;
    }
  }
  return { dtype: arr.dtype, shape, data: out };
}
