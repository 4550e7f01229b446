import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DensePoseError } from '../../errors.ts';
import { FileReader, MemoryReader } from './byte-reader.ts';
import type { ByteReader } from './byte-reader.ts';

const tmp = mkdtempSync(join(tmpdir(), 'reader-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const text = 'ab\ncdefgh\nijklmnopqrstuvwxyz0123456789';

function exercise(r: ByteReader): void {
  expect(String.fromCharCode(r.byte())).toBe('a');
  expect(Buffer.from(r.line('x')).toString()).toBe('b');
  expect(Buffer.from(r.line('x')).toString()).toBe('cdefgh');
  const small = r.take(3, 'x');
  const big = r.take(12, 'x'); // ≥ ownBufferBytes: a buffer of its own
  const after = r.take(2, 'x');
  // earlier results stay valid after later reads replace the read-ahead chunk
  expect(Buffer.from(small).toString()).toBe('ijk');
  expect(Buffer.from(big).toString()).toBe('lmnopqrstuvw');
  expect(Buffer.from(after).toString()).toBe('xy');
  expect(r.pos).toBe(text.length - 11);
  let err: unknown;
  try {
    r.take(20, 'tensor payload');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DensePoseError);
  expect((err as DensePoseError).code).toBe('TRUNCATED_FILE');
  expect((err as Error).message).toContain('tensor payload needs 20 bytes');
  r.close();
}

describe('byte readers', () => {
  it('MemoryReader and FileReader (tiny chunks, lines across chunk borders) agree', () => {
    const p = join(tmp, 'f.bin');
    writeFileSync(p, text);
    exercise(new MemoryReader(Buffer.from(text), 'mem'));
    exercise(new FileReader(p, p, { chunkBytes: 3, ownBufferBytes: 8 }));
  });

  it('gives own-buffer reads byte offset 0 so any typed array can view them', () => {
    const p = join(tmp, 'g.bin');
    writeFileSync(p, Buffer.alloc(100, 7));
    const r = new FileReader(p, p, { chunkBytes: 16, ownBufferBytes: 32 });
    r.take(3, 'x');
    const big = r.take(40, 'x');
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(40);
    r.close();
  });
});
