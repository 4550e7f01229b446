import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from './npy.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS, expectDensePoseError } from './test-fixtures.ts';

const here = new URL('./testdata/', import.meta.url).pathname;
const fixtures = join(FIXTURES, 'detectron2');
const tmp = mkdtempSync(join(tmpdir(), 'npy-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


describe('readNpy (numpy-written files)', () => {
  const expected = Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);

  it('reads C-order float32 as an aligned view onto the file buffer', () => {
    const a = readNpy(join(here, 'c_f32.npy'));
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([2, 3, 4]);
    expect(Array.from(a.data as Float32Array)).toEqual(expected);
    const buf = readFileSync(join(here, 'c_f32.npy'));
    const b = readNpy(buf);
    expect(b.data.buffer).toBe(buf.buffer);
  });

  it('transposes Fortran order into C order', () => {
    const a = readNpy(join(here, 'fortran_f32.npy'));
    expect(a.shape).toEqual([2, 3, 4]);
    expect(Array.from(a.data as Float32Array)).toEqual(expected);
  });

  it('byte-swaps big-endian int32', () => {
    const a = readNpy(join(here, 'be_i32.npy'));
    expect(a.dtype).toBe('int32');
    expect(a.shape).toEqual([3, 4]);
    expect(Array.from(a.data as Int32Array)).toEqual(Array.from({ length: 12 }, (_, i) => i - 6));
  });

  it('reads int64 as BigInt64Array, bool as 0/1, scalars, version-2 headers', () => {
    const i = readNpy(join(here, 'i64.npy'));
    expect(i.dtype).toBe('int64');
    expect(Array.from(i.data as BigInt64Array)).toEqual([-(2n ** 40n), -1n, 0n, 7n, 2n ** 52n]);
    const b = readNpy(join(here, 'bool.npy'));
    expect(b).toMatchObject({ dtype: 'bool', shape: [2, 2] });
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 0, 1]);
    const s = readNpy(join(here, 'scalar_f64.npy'));
    expect(s.shape).toEqual([]);
    expect(Array.from(s.data as Float64Array)).toEqual([3.25]);
    const u = readNpy(join(here, 'u16_v2.npy'));
    expect(u.dtype).toBe('uint16');
    expect(Array.from(u.data as Uint16Array)).toEqual([0, 1, 2, 3, 4]);
  });

  it.skipIf(SKIP_FIXTURE_TESTS)('reads the detectron2 golden fixtures', () => {
    const boxes = readNpy(join(fixtures, 'boxes_xyxy.npy'));
    expect(boxes.shape).toEqual([2, 4]);
    expect(boxes.dtype).toBe('float32');
    const img = readNpy(join(fixtures, 'image_480x640_bgr_hwc_uint8.npy'));
    expect(img).toMatchObject({ dtype: 'uint8', shape: [480, 640, 3] });
  });
});

describe('writeNpy', () => {
  it('round-trips every dtype with a 64-byte-aligned header and leaves no temp file', () => {
    const cases = [
      { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 4, 5, 6]) },
      { dtype: 'float64', shape: [1], data: new Float64Array([Math.PI]) },
      { dtype: 'int8', shape: [3], data: new Int8Array([-128, 0, 127]) },
      { dtype: 'uint8', shape: [0, 4], data: new Uint8Array(0) },
      { dtype: 'int16', shape: [2], data: new Int16Array([-3, 3]) },
      { dtype: 'uint16', shape: [2], data: new Uint16Array([65535, 1]) },
      { dtype: 'int32', shape: [], data: new Int32Array([-7]) },
      { dtype: 'uint32', shape: [1, 1, 2], data: new Uint32Array([4e9, 2]) },
      { dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
      { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
    ] as const;
    for (const c of cases) {
      const p = join(tmp, `${c.dtype}.npy`);
      writeNpy(p, { dtype: c.dtype, shape: [...c.shape], data: c.data });
      const raw = readFileSync(p);
      const headerLen = raw.readUInt16LE(8);
      expect((10 + headerLen) % 64).toBe(0);
      const back = readNpy(p);
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual(c.shape);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(c.data as ArrayLike<unknown>));
    }
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('rejects data that does not match the shape', () => {
    expectDensePoseError(() => writeNpy(join(tmp, 'bad.npy'), { dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }), 'BAD_INPUT', 'Float32Array[4]');
  });
});

describe('readNpy bad input', () => {
  it('names the file for truncated data, truncated header, bad magic and unsupported dtype', () => {
    const good = readFileSync(join(here, 'c_f32.npy'));
    const cut = join(tmp, 'cut.npy');
    writeFileSync(cut, good.subarray(0, good.length - 5));
    expectDensePoseError(() => readNpy(cut), 'TRUNCATED_FILE', cut, 'truncated');
    writeFileSync(cut, good.subarray(0, 40));
    expectDensePoseError(() => readNpy(cut), 'TRUNCATED_FILE', cut);
    writeFileSync(cut, good.subarray(0, 4));
    expectDensePoseError(() => readNpy(cut), 'TRUNCATED_FILE', cut);
    const bad = Buffer.from(good);
    bad[1] = 0x41;
    expectDensePoseError(() => readNpy(bad, { name: 'x.npy' }), 'BAD_FILE', 'x.npy', 'magic');
    expectDensePoseError(() => readNpy(join(here, 'c16.npy')), 'UNSUPPORTED', 'c16.npy', '<c8');
    expectDensePoseError(() => readNpy(join(tmp, 'missing.npy')), 'NOT_FOUND', 'missing.npy');
  });
});
