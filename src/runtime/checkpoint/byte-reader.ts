import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DensePoseError } from '../../errors.ts';

/**
 * Sequential access to a file's bytes for parsers. `take(n)` returns the next n bytes as a Uint8Array
 * that stays valid (it is never overwritten), so parsers can hand out typed-array views onto it.
 */
export interface ByteReader {
  /** Name for error messages (the path, or "<buffer>"). */
  readonly where: string;
  /** Offset of the next byte. */
  readonly pos: number;
  /** Total size in bytes. */
  readonly size: number;
  /** The next byte; throws TRUNCATED_FILE at the end. */
  byte(): number;
  /** The next `n` bytes; throws TRUNCATED_FILE (mentioning `what`) when fewer remain. */
  take(n: number, what: string): Uint8Array;
  /** Bytes up to and excluding the next `\n` (which is consumed). */
  line(what: string): Uint8Array;
  /** Release any file handle. */
  close(): void;
}

function truncated(where: string, what: string, need: number, pos: number, size: number): DensePoseError {
  return new DensePoseError(
    'TRUNCATED_FILE',
    `file truncated: ${what} needs ${need} bytes at offset ${pos}, but the file has ${size} bytes`,
    { where },
  );
}

/** Reads from bytes already in memory; `take` returns subarrays (no copies). */
export class MemoryReader implements ByteReader {
  pos = 0;
  readonly size: number;
  constructor(
    private readonly bytes: Uint8Array,
    readonly where: string,
  ) {
    this.size = bytes.byteLength;
  }
  byte(): number {
    if (this.pos >= this.size) throw truncated(this.where, 'next opcode', 1, this.pos, this.size);
    return this.bytes[this.pos++]!;
  }
  take(n: number, what: string): Uint8Array {
    if (!(n >= 0) || this.pos + n > this.size) throw truncated(this.where, what, n, this.pos, this.size);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  line(what: string): Uint8Array {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw truncated(this.where, `${what} (a newline-terminated argument)`, 1, this.size, this.size);
    const out = this.bytes.subarray(this.pos, end);
    this.pos = end + 1;
    return out;
  }
  close(): void {}
}

/** Options of {@link FileReader}. */
export interface FileReaderOptions {
  /** Bytes read ahead for small items. @default 1 MiB */
  chunkBytes?: number;
  /** Items at least this long get an ArrayBuffer of their own, read straight from the file (aligned, no copy). @default 64 KiB */
  ownBufferBytes?: number;
}

/**
 * Reads a file in chunks. Large items (tensor payloads) are read directly into an ArrayBuffer of their own,
 * so they start at byte 0 (aligned for any typed array) and are never copied; small items live in read-ahead
 * chunks that are replaced, not overwritten, when exhausted. Peak memory ≈ the data kept, not twice the file.
 */
export class FileReader implements ByteReader {
  readonly size: number;
  private readonly fd: number;
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0; // file offset of chunk[0]
  private at = 0; // index into chunk
  private readonly chunkBytes: number;
  private readonly ownBufferBytes: number;

  constructor(
    path: string,
    readonly where: string = path,
    options: FileReaderOptions = {},
  ) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new DensePoseError('NOT_FOUND', `cannot open: ${(e as Error).message}`, { where, cause: e });
    }
    this.size = fstatSync(this.fd).size;
    this.chunkBytes = options.chunkBytes ?? 1 << 20;
    this.ownBufferBytes = options.ownBufferBytes ?? 1 << 16;
  }

  get pos(): number {
    return this.chunkStart + this.at;
  }

  private readInto(dst: Uint8Array, fileOffset: number): void {
    let done = 0;
    while (done < dst.byteLength) {
      const n = readSync(this.fd, dst, done, Math.min(dst.byteLength - done, 1 << 30), fileOffset + done);
      if (n === 0) throw truncated(this.where, 'read', dst.byteLength, fileOffset, this.size);
      done += n;
    }
  }

  /** Make at least `n` bytes available at `this.at` (n ≤ chunk size or the whole remainder). */
  private fill(n: number, what: string): void {
    const have = this.chunk.byteLength - this.at;
    if (have >= n) return;
    const pos = this.pos;
    if (pos + n > this.size) throw truncated(this.where, what, n, pos, this.size);
    const len = Math.min(Math.max(n, this.chunkBytes), this.size - pos);
    const next = new Uint8Array(len);
    next.set(this.chunk.subarray(this.at));
    this.readInto(next.subarray(have), pos + have);
    this.chunk = next;
    this.chunkStart = pos;
    this.at = 0;
  }

  byte(): number {
    this.fill(1, 'next opcode');
    return this.chunk[this.at++]!;
  }

  take(n: number, what: string): Uint8Array {
    if (!(n >= 0)) throw truncated(this.where, what, n, this.pos, this.size);
    if (n < this.ownBufferBytes) {
      this.fill(n, what);
      const out = this.chunk.subarray(this.at, this.at + n);
      this.at += n;
      return out;
    }
    const pos = this.pos;
    if (pos + n > this.size) throw truncated(this.where, what, n, pos, this.size);
    // allocUnsafeSlow: a fresh ArrayBuffer of its own (offset 0, not pooled), not zero-filled since it is read over
    const out = Buffer.allocUnsafeSlow(n);
    const have = Math.min(n, this.chunk.byteLength - this.at);
    out.set(this.chunk.subarray(this.at, this.at + have));
    this.readInto(out.subarray(have), pos + have);
    this.chunk = new Uint8Array(0);
    this.chunkStart = pos + n;
    this.at = 0;
    return out;
  }

  line(what: string): Uint8Array {
    const parts: Uint8Array[] = [];
    for (;;) {
      this.fill(1, `${what} (a newline-terminated argument)`);
      const end = this.chunk.indexOf(0x0a, this.at);
      if (end >= 0) {
        parts.push(this.chunk.subarray(this.at, end));
        this.at = end + 1;
        return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      }
      parts.push(this.chunk.subarray(this.at));
      this.at = this.chunk.byteLength;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
