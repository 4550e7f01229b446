import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NdArray } from './ndarray.ts';
import { encodeSafetensors, readSafetensors, writeSafetensors } from './safetensors.ts';
import { expectDensePoseError } from './test-fixtures.ts';

const here = new URL('./testdata/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'st-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const vals = (a: NdArray | undefined) => Array.from(a!.data as ArrayLike<number | bigint>);


describe('readSafetensors', () => {
  it('reads a file written by the reference safetensors package (make_safetensors.py)', () => {
    const { tensors, metadata } = readSafetensors(join(here, 'reference.safetensors'));
    expect(metadata).toEqual({ format: 'np', by: 'safetensors 0.8.0' });
    expect(tensors.get('conv.weight')).toMatchObject({ dtype: 'float32', shape: [2, 3, 2, 2] });
    expect(vals(tensors.get('conv.weight'))).toEqual(Array.from({ length: 24 }, (_, i) => i / 8 - 1));
    expect(vals(tensors.get('ids'))).toEqual([-(2n ** 40n), 5n]);
    expect(tensors.get('mask')).toMatchObject({ dtype: 'bool', shape: [3] });
    expect(vals(tensors.get('mask'))).toEqual([1, 0, 1]);
    expect(tensors.get('half')!.dtype).toBe('float32');
    expect(vals(tensors.get('half'))).toEqual([1.5, -2, 65504, 0]);
    expect(tensors.get('scalar')).toMatchObject({ dtype: 'float64', shape: [] });
    expect(vals(tensors.get('scalar'))).toEqual([7]);
    expect(vals(tensors.get('u8'))).toEqual([0, 1, 2]);
  });

  it('widens BF16 to float32', () => {
    // bf16 is the top half of a float32: 1.5 = 0x3fc0, -2 = 0xc000
    const header = JSON.stringify({ b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } });
    const file = Buffer.concat([Buffer.alloc(8), Buffer.from(header), Buffer.from([0xc0, 0x3f, 0x00, 0xc0])]);
    file.writeBigUInt64LE(BigInt(header.length), 0);
    expect(vals(readSafetensors(file).tensors.get('b'))).toEqual([1.5, -2]);
  });
});

describe('writeSafetensors', () => {
  it('round-trips every dtype with metadata; data are aligned views onto the file buffer', () => {
    const t = new Map<string, NdArray>([
      ['a.u8', { dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) }],
      ['b.f32', { dtype: 'float32', shape: [2, 2], data: new Float32Array([0.5, -1, 2, 3]) }],
      ['c.i64', { dtype: 'int64', shape: [1], data: new BigInt64Array([-9n]) }],
      ['d.i16', { dtype: 'int16', shape: [1], data: new Int16Array([-300]) }],
      ['e.f64', { dtype: 'float64', shape: [], data: new Float64Array([Math.E]) }],
      ['f.bool', { dtype: 'bool', shape: [2], data: new Uint8Array([0, 1]) }],
      ['g.i8', { dtype: 'int8', shape: [1], data: new Int8Array([-1]) }],
      ['h.u16', { dtype: 'uint16', shape: [1], data: new Uint16Array([65535]) }],
      ['i.i32', { dtype: 'int32', shape: [1], data: new Int32Array([-7]) }],
      ['j.u32', { dtype: 'uint32', shape: [1], data: new Uint32Array([4e9]) }],
      ['k.empty', { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) }],
    ]);
    const p = join(tmp, 'rt.safetensors');
    writeSafetensors(p, t, { step: '10' });
    const buf = readFileSync(p);
    const back = readSafetensors(buf);
    expect(back.metadata).toEqual({ step: '10' });
    expect([...back.tensors.keys()].sort()).toEqual([...t.keys()].sort());
    for (const [k, v] of t) {
      const b = back.tensors.get(k)!;
      expect({ k, dtype: b.dtype, shape: b.shape, v: vals(b) }).toEqual({ k, dtype: v.dtype, shape: v.shape, v: vals(v) });
      expect(b.data.buffer).toBe(buf.buffer);
    }
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('replaces an existing file only once the new one is complete', () => {
    const p = join(tmp, 'replace.safetensors');
    const one = new Map<string, NdArray>([['x', { dtype: 'float32', shape: [1], data: new Float32Array([1]) }]]);
    writeSafetensors(p, one);
    const bad = new Map<string, NdArray>([['x', { dtype: 'float32', shape: [2], data: new Float32Array([1]) }]]);
    expectDensePoseError(() => writeSafetensors(p, bad), 'BAD_INPUT', 'tensor "x"');
    expect(vals(readSafetensors(p).tensors.get('x'))).toEqual([1]);
  });
});

describe('readSafetensors bad input', () => {
  const good = Buffer.concat(encodeSafetensors(new Map<string, NdArray>([
    ['backbone.conv.weight', { dtype: 'float32', shape: [4, 4], data: new Float32Array(16).fill(1) }],
    ['backbone.conv.bias', { dtype: 'float32', shape: [4], data: new Float32Array(4) }],
  ])));

  it('names the file and the tensor when truncated anywhere', () => {
    const p = join(tmp, 'cut.safetensors');
    for (let cut = 0; cut < good.length; cut += 5) {
      writeFileSync(p, good.subarray(0, cut));
      expectDensePoseError(() => readSafetensors(p), 'TRUNCATED_FILE', p);
    }
    writeFileSync(p, good.subarray(0, good.length - 3));
    expectDensePoseError(() => readSafetensors(p), 'TRUNCATED_FILE', p, 'tensor "backbone.conv.bias"');
  });

  it('rejects a corrupt header, bad offsets, holes and unknown dtypes by name', () => {
    const make = (h: unknown, dataLen: number) => {
      const j = JSON.stringify(h);
      const b = Buffer.alloc(8 + j.length + dataLen);
      b.writeBigUInt64LE(BigInt(j.length), 0);
      b.write(j, 8);
      return b;
    };
    expectDensePoseError(() => readSafetensors(Buffer.from('not a safetensors file at all'), { name: 'x.st' }), 'BAD_FILE', 'x.st');
    const j = '{"a": ';
    const broken = Buffer.alloc(8 + j.length);
    broken.writeBigUInt64LE(BigInt(j.length), 0);
    broken.write(j, 8);
    expectDensePoseError(() => readSafetensors(broken, { name: 'x.st' }), 'BAD_FILE', 'x.st', 'JSON');
    expectDensePoseError(() => readSafetensors(make({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)), 'BAD_FILE', 'tensor "w"', 'needs 12');
    expectDensePoseError(() => readSafetensors(make({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8)), 'UNSUPPORTED', 'tensor "w"', 'F32');
    expectDensePoseError(() => readSafetensors(make({ w: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, 2)), 'BAD_FILE', 'tensor "w"', 'hole');
    expectDensePoseError(() => readSafetensors(make({ w: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 3)), 'BAD_FILE', 'after the last tensor');
    expectDensePoseError(() => readSafetensors(make({ w: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, 1)), 'BAD_FILE', 'tensor "w"', 'shape');
  });
});
