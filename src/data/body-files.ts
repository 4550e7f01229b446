// Writers for the official DensePose evaluation body files, so that any body (our synthetic one,
// test bodies) is stored exactly as the official SMPL data and read by one loader
// (`eval/body-model.ts`): SMPL_subdiv.mat and SMPL_SUBDIV_TRANSFORM.mat (MAT v5) and
// Pdist_matrix.pkl (a Python-2 pickle of a numpy float32 array).
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { ensureDir, tempPathFor, writeFileAtomicSync } from '../io.ts';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { DensePoseError, ioError } from '../errors.ts';

/** A MAT variable to write: column-major data with MATLAB dims. */
export interface MatVariableInput {
  name: string;
  dims: number[];
  data: Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
}

const CLASS_OF = new Map<unknown, [mx: number, mi: number]>([
  [Float64Array, [6, 9]], [Float32Array, [7, 7]], [Int8Array, [8, 1]], [Uint8Array, [9, 2]],
  [Int16Array, [10, 3]], [Uint16Array, [11, 4]], [Int32Array, [12, 5]], [Uint32Array, [13, 6]],
]);

function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function element(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + pad8(payload.length));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function matrixElement(v: MatVariableInput): Uint8Array {
  const cls = CLASS_OF.get(v.data.constructor);
  if (!cls) throw new DensePoseError('UNSUPPORTED', `variable "${v.name}": unsupported array type`, { where: 'writeMat' });
  const count = v.dims.reduce((a, b) => a * b, 1);
  if (count !== v.data.length) throw new DensePoseError('SHAPE_MISMATCH', `variable "${v.name}": dims ${v.dims.join('×')} need ${count} values, got ${v.data.length}`, { where: 'writeMat' });
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, cls[0], true);
  const dims = new Uint8Array(4 * v.dims.length);
  v.dims.forEach((d, i) => new DataView(dims.buffer).setInt32(4 * i, d, true));
  const parts = [
    element(6, flags),
    element(5, dims),
    element(1, new TextEncoder().encode(v.name)),
    element(cls[1], new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength)),
  ];
  const body = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { body.set(p, o); o += p.length; }
  return element(14, body);
}

/** Options of {@link encodeMat}. */
export interface WriteMatOptions {
  /** Wrap each variable in a zlib miCOMPRESSED element (as scipy's `do_compression=True`). @default true */
  compress?: boolean;
}

/** A little-endian MAT v5 file holding `vars`. */
export function encodeMat(vars: readonly MatVariableInput[], options: WriteMatOptions = {}): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by densepose-ts'));
  header.fill(0, 116, 124);
  header[124] = 0x00; header[125] = 0x01; header[126] = 0x49; header[127] = 0x4d; // version 0x0100, "IM"
  const chunks: Uint8Array[] = [header];
  for (const v of vars) {
    const m = matrixElement(v);
    if (options.compress ?? true) {
      const z = deflateSync(m);
      const tag = new Uint8Array(8);
      new DataView(tag.buffer).setUint32(0, 15, true);
      new DataView(tag.buffer).setUint32(4, z.length, true);
      chunks.push(tag, z);
    } else chunks.push(m);
  }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/**
 * The head and tail of a Python-2 pickle (protocol 2) of `{"Pdist_matrix": float32 [length, 1]}`:
 * the array is rebuilt through `numpy.core.multiarray._reconstruct` and its bytes sit in one
 * BINSTRING between `head` and `tail`, as the official file has them.
 */
export function pdistPickleFrame(length: number): { head: Uint8Array; tail: Uint8Array } {
  const bytes: number[] = [];
  const ascii = (s: string) => { for (let i = 0; i < s.length; i++) bytes.push(s.charCodeAt(i)); };
  const shortStr = (s: string) => { bytes.push(0x55, s.length); ascii(s); }; // SHORT_BINSTRING
  const int = (v: number) => { bytes.push(0x4a, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff); }; // BININT
  bytes.push(0x80, 2); // PROTO 2
  bytes.push(0x7d); // EMPTY_DICT
  shortStr('Pdist_matrix');
  ascii('cnumpy.core.multiarray\n_reconstruct\n'); // GLOBAL
  ascii('cnumpy\nndarray\n');
  int(0); bytes.push(0x85); // (0,)
  shortStr('b');
  bytes.push(0x87, 0x52); // TUPLE3, REDUCE
  // state: (1, (length, 1), dtype('<f4'), False, data)
  bytes.push(0x28); // MARK
  int(1);
  if (length > 0x7fffffff) throw new DensePoseError('BAD_INPUT', `condensed length ${length} exceeds BININT`, { where: 'pdistPickleFrame' });
  int(length); int(1); bytes.push(0x86); // TUPLE2
  ascii('cnumpy\ndtype\n');
  shortStr('f4'); int(0); int(1); bytes.push(0x87, 0x52); // dtype('f4', 0, 1)
  bytes.push(0x28); int(3); shortStr('<'); bytes.push(0x4e, 0x4e, 0x4e); int(-1); int(-1); int(0); bytes.push(0x74, 0x62); // BUILD (3,'<',None,None,None,-1,-1,0)
  bytes.push(0x89); // NEWFALSE
  const nbytes = length * 4;
  if (nbytes > 0x7fffffff) throw new DensePoseError('BAD_INPUT', `${nbytes} bytes exceed a BINSTRING`, { where: 'pdistPickleFrame' });
  bytes.push(0x54, nbytes & 0xff, (nbytes >>> 8) & 0xff, (nbytes >>> 16) & 0xff, (nbytes >>> 24) & 0xff); // BINSTRING
  const head = Uint8Array.from(bytes);
  const tail = Uint8Array.from([0x74, 0x62, 0x73, 0x2e]); // TUPLE (from MARK), BUILD, SETITEM, STOP
  return { head, tail };
}

/**
 * Write `Pdist_matrix.pkl` for `n` points. `fill(start, out)` writes condensed entries
 * `start … start+out.length−1` (row-major upper triangle) into `out`, so files of any size stream
 * through a small buffer.
 */
export function writePdistPickle(path: string, n: number, fill: (start: number, out: Float32Array) => void, chunk = 1 << 22): void {
  const length = (n * (n - 1)) / 2;
  const { head, tail } = pdistPickleFrame(length);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    const buf = new Float32Array(Math.min(chunk, Math.max(1, length)));
    for (let s = 0; s < length; s += buf.length) {
      const part = buf.subarray(0, Math.min(buf.length, length - s));
      fill(s, part);
      writeSync(fd, new Uint8Array(part.buffer, 0, part.byteLength));
    }
    writeSync(fd, tail);
  } finally {
    closeSync(fd);
  }
}

/** A body surface to store in the official layout. */
export interface BodyFilesInput {
  /** `[V]` part 1..24 per vertex. */
  vertexPart: Uint8Array;
  /** `[V]` chart coordinates. */
  vertexU: Float64Array;
  vertexV: Float64Array;
  /** `[V, 3]` row-major positions in metres (stored as the 3×V `vertex`). */
  positions: Float64Array | Float32Array;
  /** `[V]` 0-based row in the distance matrix of each vertex. @default identity */
  distanceRow?: Int32Array;
  /** Number of distance-matrix rows. @default V */
  numRows?: number;
  /** Geodesic distance in metres between distance rows a < b. */
  distance: (a: number, b: number) => number;
}

/** Write SMPL_subdiv.mat, SMPL_SUBDIV_TRANSFORM.mat and Pdist_matrix.pkl for `body` into `dir`. */
export function writeBodyModelFiles(dir: string, body: BodyFilesInput): void {
  const V = body.vertexPart.length;
  if (body.vertexU.length !== V || body.vertexV.length !== V || body.positions.length !== 3 * V) {
    throw new DensePoseError('SHAPE_MISMATCH', `vertex arrays disagree: part ${V}, U ${body.vertexU.length}, V ${body.vertexV.length}, positions ${body.positions.length} (expected ${3 * V})`, { where: dir });
  }
  ensureDir(dir);
  const write = (name: string, bytes: Uint8Array) => writeFileAtomicSync(join(dir, name), [bytes]);
  // MATLAB is column-major: `vertex` [3, V] is the positions' [V, 3] row-major bytes as they are.
  write('SMPL_subdiv.mat', encodeMat([
    { name: 'vertex', dims: [3, V], data: Float64Array.from(body.positions) },
    { name: 'Part_ID_subdiv', dims: [V, 1], data: body.vertexPart },
    { name: 'U_subdiv', dims: [1, V], data: body.vertexU },
    { name: 'V_subdiv', dims: [1, V], data: body.vertexV },
  ]));
  const rows = body.distanceRow ?? Int32Array.from({ length: V }, (_, i) => i);
  const n = body.numRows ?? V;
  write('SMPL_SUBDIV_TRANSFORM.mat', encodeMat([{ name: 'index', dims: [V, 1], data: Float64Array.from(rows, (r) => r + 1) }], { compress: false }));
  // Walk the condensed order (a, b) without materialising it.
  let a = 0, b = 1;
  // streamed to a temporary name and renamed, so a kill never leaves half a matrix under the real name
  const pkl = join(dir, 'Pdist_matrix.pkl');
  const tmp = tempPathFor(pkl);
  try {
    writePdistPickle(tmp, n, (_start, out) => {
      for (let k = 0; k < out.length; k++) {
        out[k] = body.distance(a, b);
        if (++b === n) { a++; b = a + 1; }
      }
    });
    renameSync(tmp, pkl);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // keep the write error
    }
    throw ioError(e, pkl, 'write');
  }
}
