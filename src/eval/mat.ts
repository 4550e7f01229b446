// MATLAB level-5 MAT-file reader (the format of DensePose's SMPL_subdiv.mat and
// SMPL_SUBDIV_TRANSFORM.mat). Written from MathWorks' "MAT-File Format" description:
// a 128-byte header, then data elements `[type u32][nbytes u32][data, padded to 8]`, where a
// variable is a miMATRIX element (flags, dims, name, real part, imaginary part) and a
// miCOMPRESSED element is a zlib stream holding one such element. Small elements pack type and
// length into one word and their data into the next 4 bytes.
import { inflateSync } from 'node:zlib';
import { DensePoseError } from '../errors.ts';
import { loadSource } from '../runtime/checkpoint/read-file.ts';

/** MATLAB array classes this reader returns data for. */
export const MAT_CLASSES = ['double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'char', 'logical'] as const;
export type MatClass = (typeof MAT_CLASSES)[number];

export type MatData = Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** One numeric/char/logical variable. */
export interface MatArray {
  name: string;
  class: MatClass;
  /** MATLAB dimensions, e.g. [3, 720]. */
  dims: number[];
  /** Elements in MATLAB's column-major order (first index fastest), in the class's type (logical → Uint8Array, char → Uint16Array code units). */
  data: MatData;
  /** Imaginary part for complex arrays. */
  imag?: MatData;
}

/** A MAT file's variables. */
export interface MatFile {
  /** Name for error messages (the path). */
  where: string;
  variables: Map<string, MatArray>;
  /** Variables of classes this reader does not decode (cell, struct, sparse, object…), by name. */
  skipped: Map<string, string>;
}

// Data element type codes.
const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18 } as const;
const MI_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };
// Array class codes (mxCLASS).
const MX: Record<number, string> = { 1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64', 16: 'function', 17: 'opaque' };

/** Options of {@link readMat}. */
export interface ReadMatOptions {
  /** Name used in errors when reading from a buffer. @default the path, or "<buffer>" */
  name?: string;
}

/** Bounds-checked little/big-endian reads over one buffer, errors naming file and offset. */
class Cursor {
  readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
    readonly where: string,
    /** Offset of `bytes` in the file, or a label for data inside a compressed element. */
    readonly context: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(pos: number, n: number, what: string): void {
    if (pos + n > this.bytes.byteLength) {
      throw new DensePoseError('TRUNCATED_FILE', `file ends while reading ${what} at byte ${pos}${this.context} (needs ${n} bytes, ${Math.max(0, this.bytes.byteLength - pos)} left)`, { where: this.where });
    }
  }
  u32(pos: number): number {
    return this.dv.getUint32(pos, this.le);
  }
}

interface Tag {
  type: number;
  nbytes: number;
  dataStart: number;
  /** Offset just after the element, padding included. */
  next: number;
}

function readTag(c: Cursor, pos: number, what: string, pad: boolean): Tag {
  c.need(pos, 8, `the tag of ${what}`);
  const w0 = c.u32(pos);
  if (w0 >>> 16 !== 0) {
    // Small data element: type in the low half, length in the high half, data in the next 4 bytes.
    return { type: w0 & 0xffff, nbytes: w0 >>> 16, dataStart: pos + 4, next: pos + 8 };
  }
  const nbytes = c.u32(pos + 4);
  const end = pos + 8 + nbytes;
  return { type: w0, nbytes, dataStart: pos + 8, next: pad ? pos + 8 + Math.ceil(nbytes / 8) * 8 : end };
}

/**
 * Read a MAT v5 file: every numeric, logical and char variable, decompressing miCOMPRESSED
 * elements with zlib. Errors are DensePoseError naming the file, the variable and the byte offset.
 */
export function readMat(source: string | Uint8Array, options: ReadMatOptions = {}): MatFile {
  const { bytes, where } = loadSource(source, options.name);
  if (bytes.byteLength < 128) {
    throw new DensePoseError('TRUNCATED_FILE', `MAT file of ${bytes.byteLength} bytes is shorter than its 128-byte header`, { where });
  }
  const endian = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (endian !== 'IM' && endian !== 'MI') {
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, 10));
    throw new DensePoseError('BAD_FILE', `not a MAT v5 file: endian indicator is ${JSON.stringify(endian)}, expected "IM" or "MI" (header starts ${JSON.stringify(head)}; v7.3 files are HDF5 and unsupported)`, { where });
  }
  const le = endian === 'IM';
  const top = new Cursor(bytes, le, where, '');
  const version = top.dv.getUint16(124, le);
  if (version !== 0x0100) throw new DensePoseError('UNSUPPORTED', `MAT version 0x${version.toString(16)}, expected 0x0100 (level 5)`, { where });

  const file: MatFile = { where, variables: new Map(), skipped: new Map() };
  let pos = 128;
  let index = 0;
  while (pos < bytes.byteLength) {
    // A few writers pad the end of the file; a tag of zeros there ends the file.
    if (bytes.byteLength - pos < 8) break;
    const tag = readTag(top, pos, `variable ${index}`, false);
    if (tag.type === 0 && tag.nbytes === 0) break;
    top.need(tag.dataStart, tag.nbytes, `variable ${index} (${tag.nbytes}-byte element)`);
    if (tag.type === MI.COMPRESSED) {
      let inner: Uint8Array;
      try {
        inner = inflateSync(bytes.subarray(tag.dataStart, tag.dataStart + tag.nbytes));
      } catch (e) {
        throw new DensePoseError('BAD_FILE', `variable ${index}: compressed element at byte ${pos} does not inflate (${(e as Error).message})`, { where, cause: e });
      }
      const c = new Cursor(inner, le, where, ` of the compressed element at file byte ${pos}`);
      const t2 = readTag(c, 0, `variable ${index}`, true);
      if (t2.type !== MI.MATRIX) throw new DensePoseError('UNSUPPORTED', `variable ${index}: compressed element holds type ${t2.type}, expected miMATRIX (14)`, { where });
      c.need(t2.dataStart, t2.nbytes, `variable ${index}`);
      readMatrix(c, t2, file, index);
    } else if (tag.type === MI.MATRIX) {
      readMatrix(top, tag, file, index);
    } else {
      throw new DensePoseError('UNSUPPORTED', `element at byte ${pos} has type ${tag.type}; a top-level element must be miMATRIX (14) or miCOMPRESSED (15)`, { where });
    }
    // Top-level elements follow each other directly; miMATRIX lengths already include their padding.
    pos = tag.dataStart + (tag.type === MI.MATRIX ? Math.ceil(tag.nbytes / 8) * 8 : tag.nbytes);
    index++;
  }
  return file;
}

function readMatrix(c: Cursor, tag: Tag, file: MatFile, index: number): void {
  const end = tag.dataStart + tag.nbytes;
  let what = `variable ${index}`;
  if (tag.nbytes === 0) return; // an empty miMATRIX (MATLAB writes these for empty cells)
  const flagsTag = readTag(c, tag.dataStart, `${what} array flags`, true);
  c.need(flagsTag.dataStart, 8, `${what} array flags`);
  const flags = c.u32(flagsTag.dataStart);
  const cls = flags & 0xff;
  const complex = (flags & 0x0800) !== 0;
  const logical = (flags & 0x0200) !== 0;
  const dimsTag = readTag(c, flagsTag.next, `${what} dimensions`, true);
  c.need(dimsTag.dataStart, dimsTag.nbytes, `${what} dimensions`);
  const dims: number[] = [];
  for (let i = 0; i < dimsTag.nbytes / 4; i++) dims.push(c.dv.getInt32(dimsTag.dataStart + 4 * i, c.le));
  const nameTag = readTag(c, dimsTag.next, `${what} name`, true);
  c.need(nameTag.dataStart, nameTag.nbytes, `${what} name`);
  const name = new TextDecoder('latin1').decode(c.bytes.subarray(nameTag.dataStart, nameTag.dataStart + nameTag.nbytes));
  what = `variable "${name}"`;
  const className = MX[cls] ?? `class ${cls}`;
  if (!['double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'char'].includes(className)) {
    file.skipped.set(name, className);
    return;
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const realTag = readTag(c, nameTag.next, `${what} data`, true);
  if (realTag.dataStart + realTag.nbytes > end) {
    throw new DensePoseError('BAD_FILE', `${what}: data element of ${realTag.nbytes} bytes overruns its matrix`, { where: c.where });
  }
  const real = readNumeric(c, realTag, count, className, what);
  let imag: MatData | undefined;
  if (complex) imag = readNumeric(c, readTag(c, realTag.next, `${what} imaginary part`, true), count, className, `${what} imaginary part`);
  const outClass: MatClass = logical ? 'logical' : (className as MatClass);
  file.variables.set(name, { name, class: outClass, dims, data: real, ...(imag ? { imag } : {}) });
}

/** Read `count` stored elements (any mi type) and convert them to the array class's type. */
function readNumeric(c: Cursor, tag: Tag, count: number, className: string, what: string): MatData {
  const size = MI_SIZE[tag.type];
  if (size === undefined) throw new DensePoseError('UNSUPPORTED', `${what}: data stored as element type ${tag.type}, not a numeric type`, { where: c.where });
  c.need(tag.dataStart, tag.nbytes, `${what} data`);
  if (tag.nbytes !== count * size) {
    throw new DensePoseError('BAD_FILE', `${what}: ${tag.nbytes} data bytes for ${count} elements of ${size} bytes (dims say ${count})`, { where: c.where });
  }
  const out = allocate(className, count);
  const dv = c.dv, le = c.le, p = tag.dataStart;
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < count; i++) {
    const o = p + i * size;
    let v: number | bigint;
    switch (tag.type) {
      case MI.INT8: v = dv.getInt8(o); break;
      case MI.UINT8: case MI.UTF8: v = dv.getUint8(o); break;
      case MI.INT16: v = dv.getInt16(o, le); break;
      case MI.UINT16: case MI.UTF16: v = dv.getUint16(o, le); break;
      case MI.INT32: v = dv.getInt32(o, le); break;
      case MI.UINT32: case MI.UTF32: v = dv.getUint32(o, le); break;
      case MI.SINGLE: v = dv.getFloat32(o, le); break;
      case MI.DOUBLE: v = dv.getFloat64(o, le); break;
      case MI.INT64: v = dv.getBigInt64(o, le); break;
      default: v = dv.getBigUint64(o, le); break;
    }
    if (big) (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
    else (out as Float64Array)[i] = typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

function allocate(className: string, n: number): MatData {
  switch (className) {
    case 'double': return new Float64Array(n);
    case 'single': return new Float32Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': case 'char': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n);
    default: return new BigUint64Array(n);
  }
}

/** The variable `name`, or a MISSING_KEY error listing the file's variables. */
export function matVariable(file: MatFile, name: string): MatArray {
  const v = file.variables.get(name);
  if (v) return v;
  const skipped = file.skipped.get(name);
  if (skipped) throw new DensePoseError('UNSUPPORTED', `variable "${name}" is a ${skipped} array; only numeric, logical and char arrays are read`, { where: file.where });
  throw new DensePoseError('MISSING_KEY', `no variable "${name}". Variables: ${[...file.variables.keys(), ...file.skipped.keys()].join(', ') || '(none)'}`, { where: file.where });
}

/** A variable's elements as float64 (column-major), for numeric classes. */
export function matToFloat64(v: MatArray): Float64Array {
  if (v.data instanceof Float64Array) return v.data;
  const out = new Float64Array(v.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(v.data[i]!);
  return out;
}
