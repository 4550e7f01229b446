// Synchronous PNG encoding of 8-bit RGB(A) images, with no Node-only imports, so results can be
// serialised (`toJSON`) in Node and in browsers alike. Node's zlib deflates when the runtime offers it
// (`process.getBuiltinModule`, Node ≥ 20.16); elsewhere a small deflate of our own (fixed Huffman codes,
// greedy LZ77) does: IUV maps are mostly runs, which it compresses well enough.
import { DensePoseError } from '../errors.ts';

type DeflateSync = (data: Uint8Array) => Uint8Array;

interface ZlibLike {
  deflateSync(data: Uint8Array, options?: { level?: number }): Uint8Array;
}

/** Node's zlib when this runtime has one, resolved once. */
let nodeDeflate: DeflateSync | null | undefined;
function zlibDeflate(): DeflateSync | null {
  if (nodeDeflate !== undefined) return nodeDeflate;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as ZlibLike | undefined;
  nodeDeflate = zlib ? (d) => zlib.deflateSync(d, { level: 6 }) : null;
  return nodeDeflate;
}

/** Options of {@link encodePngSync}. */
export interface EncodePngOptions {
  /** Use our own deflate even where Node's zlib is available (tests compare the two). @default false */
  portableDeflate?: boolean;
}

/** PNG bytes of an interleaved 8-bit image `[height, width, channels]` (3 = RGB, 4 = RGBA). */
export function encodePngSync(data: Uint8Array, width: number, height: number, channels: 3 | 4, options: EncodePngOptions = {}): Uint8Array {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new DensePoseError('BAD_INPUT', `encodePngSync: width and height must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * channels) {
    throw new DensePoseError('SHAPE_MISMATCH', `encodePngSync: ${data.length} bytes for ${width}×${height}×${channels}`);
  }
  // Scanlines, each prefixed by filter type 0 (none).
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const deflate = (!options.portableDeflate && zlibDeflate()) || zlibStream;
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, channels === 3 ? 2 : 6, 0, 0, 0], 8);
  const parts = [PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflate(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const PNG_SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zlib stream (RFC 1950) around {@link deflateFixed}. */
export function zlibStream(data: Uint8Array): Uint8Array {
  const body = deflateFixed(data);
  const out = new Uint8Array(body.length + 6);
  out[0] = 0x78;
  out[1] = 0x01;
  out.set(body, 2);
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]!) % 65521;
    b = (b + a) % 65521;
  }
  new DataView(out.buffer).setUint32(out.length - 4, ((b << 16) | a) >>> 0);
  return out;
}

// RFC 1951 §3.2.5: length and distance codes.
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const WINDOW = 32768;
const MAX_MATCH = 258;
const MAX_CHAIN = 32;

/** Raw deflate (RFC 1951) of `data` in one block with the fixed Huffman codes and greedy LZ77 matching. */
export function deflateFixed(data: Uint8Array): Uint8Array {
  const bits = new BitWriter(Math.max(64, data.length >> 1));
  bits.write(1, 1); // BFINAL
  bits.write(1, 2); // BTYPE = 01, fixed codes
  const head = new Int32Array(1 << 15).fill(-1);
  const prev = new Int32Array(WINDOW);
  const hash = (i: number) => ((data[i]! << 10) ^ (data[i + 1]! << 5) ^ data[i + 2]!) & 0x7fff;
  const insert = (i: number) => {
    if (i + 2 >= data.length) return;
    const h = hash(i);
    prev[i & (WINDOW - 1)] = head[h]!;
    head[h] = i;
  };
  let i = 0;
  while (i < data.length) {
    let bestLen = 0;
    let bestDist = 0;
    if (i + 2 < data.length) {
      let cand = head[hash(i)]!;
      const limit = Math.min(MAX_MATCH, data.length - i);
      for (let chain = 0; cand >= 0 && i - cand <= WINDOW && chain < MAX_CHAIN; chain++) {
        let len = 0;
        while (len < limit && data[cand + len] === data[i + len]) len++;
        if (len > bestLen) {
          bestLen = len;
          bestDist = i - cand;
          if (len === limit) break;
        }
        const next = prev[cand & (WINDOW - 1)]!;
        if (next >= cand) break;
        cand = next;
      }
    }
    if (bestLen >= 3) {
      writeLength(bits, bestLen);
      writeDistance(bits, bestDist);
      for (let k = 0; k < bestLen; k++) insert(i + k);
      i += bestLen;
    } else {
      writeLiteral(bits, data[i]!);
      insert(i);
      i++;
    }
  }
  writeLiteral(bits, 256);
  return bits.finish();
}

/** Fixed literal/length code of `sym` (0..287), written most significant bit first. */
function writeLiteral(bits: BitWriter, sym: number): void {
  if (sym < 144) bits.writeCode(0x30 + sym, 8);
  else if (sym < 256) bits.writeCode(0x190 + sym - 144, 9);
  else if (sym < 280) bits.writeCode(sym - 256, 7);
  else bits.writeCode(0xc0 + sym - 280, 8);
}

function writeLength(bits: BitWriter, len: number): void {
  let c = LENGTH_BASE.length - 1;
  while (LENGTH_BASE[c]! > len) c--;
  writeLiteral(bits, 257 + c);
  if (LENGTH_EXTRA[c]! > 0) bits.write(len - LENGTH_BASE[c]!, LENGTH_EXTRA[c]!);
}

function writeDistance(bits: BitWriter, dist: number): void {
  let c = DIST_BASE.length - 1;
  while (DIST_BASE[c]! > dist) c--;
  bits.writeCode(c, 5);
  if (DIST_EXTRA[c]! > 0) bits.write(dist - DIST_BASE[c]!, DIST_EXTRA[c]!);
}

/** Deflate's bit order: values least significant bit first, Huffman codes most significant bit first. */
class BitWriter {
  private buf: Uint8Array;
  private pos = 0;
  private acc = 0;
  private n = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  write(value: number, count: number): void {
    this.acc |= value << this.n;
    this.n += count;
    while (this.n >= 8) {
      if (this.pos === this.buf.length) {
        const grown = new Uint8Array(this.buf.length * 2);
        grown.set(this.buf);
        this.buf = grown;
      }
      this.buf[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.n -= 8;
    }
  }
  writeCode(code: number, count: number): void {
    let r = 0;
    for (let k = 0; k < count; k++) r |= ((code >> k) & 1) << (count - 1 - k);
    this.write(r, count);
  }
  finish(): Uint8Array {
    if (this.n > 0) this.write(0, 8 - this.n);
    return this.buf.slice(0, this.pos);
  }
}

/** Standard base64 of `bytes` (no Buffer: browsers have none). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
