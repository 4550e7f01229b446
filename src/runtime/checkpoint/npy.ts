import { DensePoseError } from '../../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { DTYPES, checkNdArray, dataBytes, dtypeSize, fortranToC, numel, typedView } from './ndarray.ts';
import type { DType, NdArray } from './ndarray.ts';
import { loadSource } from './read-file.ts';

/** numpy type character + size → our dtype. Byte order is handled apart. */
const FROM_DESCR: Record<string, DType> = {
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  b1: 'bool',
};

const TO_DESCR: Record<DType, string> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  bool: '|b1',
};

/**
 * Parse a numpy dtype string (`'<f4'`, `'|u1'`, `'>i8'`, `'f4'`) into our dtype and byte order.
 * Shared with the pickle reader. Throws UNSUPPORTED naming `where` for anything else.
 */
export function parseNumpyDescr(descr: string, where: string): { dtype: DType; bigEndian: boolean } {
  const m = /^([<>|=]?)([a-z])(\d+)$/.exec(descr);
  const dtype = m ? FROM_DESCR[`${m[2]}${m[3]}`] : undefined;
  if (!m || !dtype) {
    throw new DensePoseError(
      'UNSUPPORTED',
      `unsupported numpy dtype "${descr}". Expected one of: ${Object.keys(FROM_DESCR).join(', ')} (with <, >, | or = byte order), i.e. ${DTYPES.join(', ')}`,
      { where },
    );
  }
  return { dtype, bigEndian: m[1] === '>' && dtypeSize(dtype) > 1 };
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Options of {@link readNpy}. */
export interface ReadNpyOptions {
  /** Name used in error messages when reading from a buffer. @default the path, or "<buffer>" */
  name?: string;
}

/**
 * Read a `.npy` file (format versions 1–3). Little- and big-endian, C and Fortran order.
 * Fortran-ordered arrays are transposed into C order (a copy; the shape stays as stored).
 * C-ordered little-endian data is a view onto the file buffer when aligned (numpy pads headers to 64 bytes).
 * int64 comes back as a BigInt64Array; `bool` as a Uint8Array of 0/1.
 */
export function readNpy(source: string | Uint8Array, options: ReadNpyOptions = {}): NdArray {
  const { bytes, where } = loadSource(source, options.name);
  if (bytes.byteLength < 10) {
    throw new DensePoseError('TRUNCATED_FILE', `.npy file of ${bytes.byteLength} bytes is shorter than its 10-byte preamble`, { where });
  }
  if (!MAGIC.every((b, i) => bytes[i] === b)) {
    throw new DensePoseError('BAD_FILE', 'bad magic: not a .npy file (expected "\\x93NUMPY")', { where });
  }
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) throw new DensePoseError('TRUNCATED_FILE', '.npy preamble truncated', { where });
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new DensePoseError('UNSUPPORTED', `.npy format version ${major}. Expected one of: 1, 2, 3`, { where });
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.byteLength) {
    throw new DensePoseError('TRUNCATED_FILE', `.npy header claims ${headerLen} bytes but the file ends at ${bytes.byteLength}`, { where });
  }
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DensePoseError('BAD_FILE', `cannot parse .npy header ${JSON.stringify(header.trim())} (needs descr, fortran_order, shape)`, { where });
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new DensePoseError('BAD_FILE', `bad shape (${shapeText}) in .npy header`, { where });
  }
  const { dtype, bigEndian } = parseNumpyDescr(descr, where);
  const n = numel(shape);
  const data = typedView(bytes, dataStart, dtype, n, where, bigEndian);
  return { dtype, shape, data: fortran === 'True' ? fortranToC(dtype, shape, data) : data };
}

/** The bytes of a `.npy` (version 1, or 2 when the header needs it) holding `arr` in C order. */
export function encodeNpy(arr: NdArray): Uint8Array[] {
  checkNdArray(arr, 'array');
  const shapeText = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let dict = `{'descr': '${TO_DESCR[arr.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy pads the header with spaces and a newline so the data starts on a 64-byte boundary.
  let version = 1;
  let pre = 10;
  if (dict.length + 1 + pre > 65535) {
    version = 2;
    pre = 12;
  }
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - pre - 1, ' ') + '\n';
  const head = new Uint8Array(pre + dict.length);
  head.set(MAGIC, 0);
  head[6] = version;
  head[7] = 0;
  const dv = new DataView(head.buffer);
  if (version === 1) dv.setUint16(8, dict.length, true);
  else dv.setUint32(8, dict.length, true);
  head.set(Buffer.from(dict, 'latin1'), pre);
  return [head, dataBytes(arr)];
}

/** Write `arr` to `path` as `.npy` (C order, little-endian), atomically (temp file + rename). */
export function writeNpy(path: string, arr: NdArray): void {
  writeFileAtomic(path, encodeNpy(arr));
}
