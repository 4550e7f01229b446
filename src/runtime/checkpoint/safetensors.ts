import { DensePoseError } from '../../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { checkNdArray, dataBytes, dtypeSize, numel, typedView } from './ndarray.ts';
import type { DType, NdArray } from './ndarray.ts';
import { loadSource } from './read-file.ts';

/** safetensors dtype names ↔ ours. */
const TO_ST: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  int8: 'I8',
  uint8: 'U8',
  int16: 'I16',
  uint16: 'U16',
  int32: 'I32',
  uint32: 'U32',
  int64: 'I64',
  bool: 'BOOL',
};
const FROM_ST: Record<string, DType> = Object.fromEntries(Object.entries(TO_ST).map(([k, v]) => [v, k as DType]));
/** Half-precision types are widened to float32 on read (a copy). */
const HALF = ['F16', 'BF16'] as const;

/** Contents of a safetensors file. */
export interface Safetensors {
  /** name → tensor, in file order (by data offset). Data are views onto the file's bytes (aligned: see writeSafetensors). */
  tensors: Map<string, NdArray>;
  /** The free-form `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** Name used in error messages when reading from a buffer. @default the path, or "<buffer>" */
  name?: string;
}

/** Largest header the reference implementation accepts (100 MB); a bigger length means a corrupt file. */
const MAX_HEADER = 100_000_000;

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function widenHalf(bytes: Uint8Array, kind: (typeof HALF)[number], count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u[i] = dv.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true));
  }
  return out;
}

/**
 * Read a safetensors file: 8-byte little-endian header length, JSON header, then the tensors' bytes.
 * Checks every entry (dtype, shape × dtype size = byte range, ranges inside the file, no holes or overlaps)
 * and names the file and tensor in the error (TRUNCATED_FILE, BAD_FILE, UNSUPPORTED).
 * F16 / BF16 tensors come back as float32 copies.
 */
export function readSafetensors(source: string | Uint8Array, options: ReadSafetensorsOptions = {}): Safetensors {
  const { bytes, where } = loadSource(source, options.name);
  if (bytes.byteLength < 8) {
    throw new DensePoseError('TRUNCATED_FILE', `safetensors file of ${bytes.byteLength} bytes is shorter than its 8-byte header length`, { where });
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) {
    throw new DensePoseError('BAD_FILE', `header length ${n64} is over ${MAX_HEADER} bytes: not a safetensors file?`, { where });
  }
  const n = Number(n64);
  if (8 + n > bytes.byteLength) {
    throw new DensePoseError('TRUNCATED_FILE', `header of ${n} bytes runs past the end of the file (${bytes.byteLength} bytes): file truncated`, { where });
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `header is not valid JSON: ${(e as Error).message}`, { where, cause: e });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new DensePoseError('BAD_FILE', 'header is not a JSON object', { where });
  }
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((info ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new DensePoseError('BAD_FILE', `__metadata__ value "${k}" is not a string`, { where });
        metadata[k] = v;
      }
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const bad = (msg: string) => new DensePoseError('BAD_FILE', `tensor "${name}": ${msg}`, { where });
    if (typeof t !== 'object' || t === null) throw bad('entry is not an object');
    if (typeof t.dtype !== 'string' || !(t.dtype in FROM_ST || (HALF as readonly string[]).includes(t.dtype))) {
      throw new DensePoseError(
        'UNSUPPORTED',
        `tensor "${name}": dtype ${JSON.stringify(t.dtype)}. Expected one of: ${[...Object.keys(FROM_ST), ...HALF].join(', ')}`,
        { where },
      );
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`bad shape ${JSON.stringify(t.shape)}`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
      throw bad(`bad data_offsets ${JSON.stringify(off)}`);
    }
    const size = t.dtype in FROM_ST ? dtypeSize(FROM_ST[t.dtype]!) : 2;
    const want = numel(t.shape as number[]) * size;
    if (off[1] - off[0] !== want) {
      throw bad(`data_offsets [${off[0]}, ${off[1]}] span ${off[1] - off[0]} bytes, but ${t.dtype} [${(t.shape as number[]).join(', ')}] needs ${want}`);
    }
    if (off[1] > dataLen) {
      throw new DensePoseError(
        'TRUNCATED_FILE',
        `tensor "${name}": data ends at byte ${dataStart + off[1]} but the file has ${bytes.byteLength} bytes: file truncated`,
        { where },
      );
    }
    entries.push({ name, dtype: t.dtype, shape: t.shape as number[], begin: off[0], end: off[1] });
  }
  entries.sort((a, b) => a.begin - b.begin);
  let pos = 0;
  for (const e of entries) {
    if (e.begin !== pos) {
      throw new DensePoseError('BAD_FILE', `tensor "${e.name}": data starts at ${e.begin}, expected ${pos} (${e.begin < pos ? 'overlap' : 'hole'} in the data)`, { where });
    }
    pos = e.end;
  }
  if (pos !== dataLen) {
    throw new DensePoseError('BAD_FILE', `${dataLen - pos} bytes after the last tensor: the header does not cover the data`, { where });
  }
  const tensors = new Map<string, NdArray>();
  for (const e of entries) {
    const count = numel(e.shape);
    const dtype = FROM_ST[e.dtype];
    if (dtype) {
      tensors.set(e.name, { dtype, shape: e.shape, data: typedView(bytes, dataStart + e.begin, dtype, count, `${where} (tensor "${e.name}")`) });
    } else {
      const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
      tensors.set(e.name, { dtype: 'float32', shape: e.shape, data: widenHalf(raw, e.dtype as (typeof HALF)[number], count) });
    }
  }
  return { tensors, metadata };
}

/**
 * The bytes of a safetensors file. Tensors are laid out by element size (8, 4, 2, 1 bytes) and then in the
 * given order, after a header padded with spaces to a multiple of 8: every tensor starts aligned for its
 * type, so readers get views, and the data has no holes (as the format requires).
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, NdArray>, metadata: Record<string, string> = {}): Uint8Array[] {
  const order = [...tensors.entries()].map(([name, arr], i) => {
    checkNdArray(arr, `tensor "${name}"`);
    return { name, arr, i, size: dtypeSize(arr.dtype) };
  });
  order.sort((a, b) => b.size - a.size || a.i - b.i);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let pos = 0;
  for (const { name, arr } of order) {
    const len = arr.data.byteLength;
    header[name] = { dtype: TO_ST[arr.dtype], shape: arr.shape, data_offsets: [pos, pos + len] };
    pos += len;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json, 'utf8'));
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  head.write(json, 8, 'utf8');
  return [head, ...order.map(({ arr }) => dataBytes(arr))];
}

/** Write `tensors` (and string `metadata`) to `path` as safetensors, atomically (temp file + rename). */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, NdArray>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
