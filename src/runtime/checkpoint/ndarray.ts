import { DensePoseError } from '../../errors.ts';

/** Element types a checkpoint tensor can have. `bool` is stored one byte per element (0/1) in a Uint8Array. */
export const DTYPES = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

/** Typed arrays that back an {@link NdArray}. int64 is a BigInt64Array (no precision loss); see {@link toFloat32}. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array;

/**
 * A dense array as stored in a checkpoint: row-major (C order) `data` of `prod(shape)` elements.
 * Layout is whatever the file had (detectron2 weights are NCHW / OIHW); see `detectron2.ts` for conversion.
 * `data` is often a view onto the file's buffer: copy it before mutating if the buffer is shared.
 */
export interface NdArray {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  new (length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Record<DType, TypedArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array as unknown as TypedArrayCtor,
  bool: Uint8Array,
};

/** Bytes per element of `dtype`. */
export function dtypeSize(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/** Number of elements of `shape` (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A zero-filled array of `dtype` with `count` elements. */
export function allocTyped(dtype: DType, count: number): TypedArray {
  return new CTORS[dtype](count);
}

/**
 * `count` elements of `dtype` starting at `bytes[byteOffset]`, little-endian.
 * A view (no copy) when the absolute address is a multiple of the element size, as typed arrays require;
 * otherwise one copy of just those bytes. `bigEndian` byte-swaps into a fresh array.
 * @param where file name for errors
 */
export function typedView(
  bytes: Uint8Array,
  byteOffset: number,
  dtype: DType,
  count: number,
  where: string,
  bigEndian = false,
): TypedArray {
  const ctor = CTORS[dtype];
  const size = ctor.BYTES_PER_ELEMENT;
  const nbytes = count * size;
  if (!Number.isSafeInteger(nbytes) || byteOffset < 0 || byteOffset + nbytes > bytes.byteLength) {
    throw new DensePoseError(
      'TRUNCATED_FILE',
      `needs ${nbytes} bytes of ${dtype} data at offset ${byteOffset}, but only ${Math.max(0, bytes.byteLength - byteOffset)} remain (file truncated?)`,
      { where },
    );
  }
  const abs = bytes.byteOffset + byteOffset;
  if (!bigEndian && abs % size === 0) return new ctor(bytes.buffer, abs, count);
  const copy = new Uint8Array(nbytes);
  copy.set(bytes.subarray(byteOffset, byteOffset + nbytes));
  if (bigEndian && size > 1) {
    for (let i = 0; i < nbytes; i += size) copy.subarray(i, i + size).reverse();
  }
  return new ctor(copy.buffer, 0, count);
}

/** Little-endian bytes of `arr.data` (a view when possible; never a copy). */
export function dataBytes(arr: NdArray): Uint8Array {
  return new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
}

/** Check that `arr.data` has `prod(shape)` elements of the right type; throws BAD_INPUT naming `what`. */
export function checkNdArray(arr: NdArray, what: string): void {
  if (!(DTYPES as readonly string[]).includes(arr.dtype)) {
    throw new DensePoseError('UNSUPPORTED', `dtype "${String(arr.dtype)}" of ${what}. Expected one of: ${DTYPES.join(', ')}.`);
  }
  const n = numel(arr.shape);
  if (!arr.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new DensePoseError('BAD_INPUT', `shape [${arr.shape.join(', ')}] of ${what} must hold non-negative integers`);
  }
  if (arr.data.length !== n || !(arr.data instanceof CTORS[arr.dtype])) {
    throw new DensePoseError(
      'BAD_INPUT',
      `${what}: data is ${arr.data.constructor.name}[${arr.data.length}], expected ${CTORS[arr.dtype].name}[${n}] for ${arr.dtype} [${arr.shape.join(', ')}]`,
    );
  }
}

/** The values as a Float32Array (a copy unless already float32); int64 goes through Number (exact below 2^53). */
export function toFloat32(arr: NdArray): Float32Array {
  if (arr.data instanceof Float32Array) return arr.data;
  const out = new Float32Array(arr.data.length);
  if (arr.data instanceof BigInt64Array) {
    for (let i = 0; i < out.length; i++) out[i] = Number(arr.data[i]!);
  } else {
    out.set(arr.data);
  }
  return out;
}

/**
 * Reorder an array given in Fortran (column-major) order into C (row-major) order, same shape.
 * Fortran element (i0..ik) sits at i0 + d0*(i1 + d1*(...)); C's at ((i0*d1 + i1)*d2 ...).
 */
export function fortranToC(dtype: DType, shape: readonly number[], fdata: TypedArray): TypedArray {
  const n = numel(shape);
  const k = shape.length;
  if (k <= 1 || n === 0) return fdata;
  const out = allocTyped(dtype, n);
  // Fortran strides: stride[0] = 1, stride[j] = stride[j-1]*shape[j-1]
  const fstride = new Array<number>(k);
  fstride[0] = 1;
  for (let j = 1; j < k; j++) fstride[j] = fstride[j - 1]! * shape[j - 1]!;
  const idx = new Array<number>(k).fill(0);
  const src = fdata as unknown as ArrayLike<number | bigint>;
  const dst = out as unknown as { [i: number]: number | bigint };
  let f = 0;
  for (let c = 0; c < n; c++) {
    dst[c] = src[f]!;
    // increment the C-order multi-index (last axis fastest) and keep the Fortran offset in step
    for (let j = k - 1; j >= 0; j--) {
      idx[j]!++;
      f += fstride[j]!;
      if (idx[j]! < shape[j]!) break;
      f -= fstride[j]! * shape[j]!;
      idx[j] = 0;
    }
  }
  return out;
}
