import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NdArray } from './ndarray.ts';
import { readDetectron2Pkl, readPickle } from './pickle.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS, expectDensePoseError } from './test-fixtures.ts';

const here = new URL('./testdata/', import.meta.url).pathname;
const nums = (a: NdArray) => Array.from(a.data as ArrayLike<number | bigint>);
const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/** Every value of make_pickles.py's sample(), restated. */
function checkSample(v: unknown): void {
  expect(v).toBeInstanceOf(Map);
  const m = v as Map<unknown, unknown>;
  const arr = (k: string) => m.get(k) as NdArray;
  expect(arr('f32')).toMatchObject({ dtype: 'float32', shape: [2, 3, 4] });
  expect(nums(arr('f32'))).toEqual(range(24, (i) => i / 4 - 1));
  // stored column-major, returned row-major: element [i][j] = (3i + j) * 1.5
  expect(arr('f64_fortran')).toMatchObject({ dtype: 'float64', shape: [2, 3] });
  expect(nums(arr('f64_fortran'))).toEqual(range(6, (i) => i * 1.5));
  expect(arr('i64').dtype).toBe('int64');
  expect(nums(arr('i64'))).toEqual([-(2n ** 40n), 3n]);
  expect(nums(arr('u8'))).toEqual([0, 1, 2, 3, 4]);
  expect(arr('bool')).toMatchObject({ dtype: 'bool', shape: [3] });
  expect(nums(arr('bool'))).toEqual([1, 0, 1]);
  expect(arr('be_i16').dtype).toBe('int16');
  expect(nums(arr('be_i16'))).toEqual([-2, -1, 0, 1]);
  expect(arr('empty')).toMatchObject({ dtype: 'float32', shape: [0, 3] });
  expect(arr('empty').data.length).toBe(0);
  expect(m.get('scalar')).toBe(2.5);
  expect(m.get('nested')).toEqual(new Map<string, unknown>([['a', 1], ['b', [1.5, null, true, false]]]));
  const tk = m.get('tuple_key') as Map<unknown, unknown>;
  expect([...tk.entries()]).toEqual([[[1, 2], 'x']]);
  expect(m.get('big')).toBe(2n ** 70n);
  expect(m.get('neg')).toBe(-5);
  expect(m.get('int32')).toBe(-100000);
  expect(m.get('text')).toBe('h\u00e9llo \u2603');
  expect(Array.from(m.get('bytes') as Uint8Array)).toEqual([0, 1, 255]);
  expect(m.get('set')).toEqual(new Set([7]));
  expect(m.get('tuple')).toEqual([1, 'two', 3.25]);
}

describe('readPickle', () => {
  for (let p = 0; p <= 5; p++) {
    it(`reads protocol ${p} (numpy arrays, dicts, OrderedDict, sets, tuples, big ints, bytes) from a path and a buffer`, () => {
      const path = join(here, `sample_p${p}.pkl`);
      checkSample(readPickle(path));
      checkSample(readPickle(readFileSync(path)));
    });
  }

  it('reads Python-2 str (SHORT_BINSTRING / BINSTRING) array data, C and Fortran order', () => {
    const m = readPickle(join(here, 'py2_arrays.pkl')) as Map<string, NdArray>;
    expect(nums(m.get('small')!)).toEqual(range(10, (i) => i - 4.5));
    expect(m.get('medium')).toMatchObject({ dtype: 'float64', shape: [10, 10] });
    expect(nums(m.get('medium')!)).toEqual(range(100, (i) => i / 8));
    expect(m.get('fortran')).toMatchObject({ dtype: 'int32', shape: [2, 3] });
    expect(nums(m.get('fortran')!)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('returns views onto the buffer for aligned data and copies only unaligned tensors', () => {
    const buf = readFileSync(join(here, 'sample_p4.pkl'));
    const m = readPickle(buf) as Map<string, NdArray>;
    const u8 = m.get('u8')!; // 1-byte elements are always aligned
    expect(u8.data.buffer).toBe(buf.buffer);
    for (const k of ['f32', 'i64']) {
      const a = m.get(k)!;
      const viewOfFile = a.data.buffer === buf.buffer;
      expect(a.data.byteOffset % (a.data as Float32Array).BYTES_PER_ELEMENT).toBe(0);
      // whether it could be a view depends on where the pickler put the bytes
      const aligned = buf.indexOf(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)) % (a.data as Float32Array).BYTES_PER_ELEMENT === 0;
      expect(viewOfFile).toBe(aligned);
    }
  });
});

describe.skipIf(SKIP_FIXTURE_TESTS)('real checkpoint files', () => {
  it('reads the detectron2 tiny model-zoo .pkl (protocol 4): every name, shape, dtype of params.txt', () => {
    const dir = join(FIXTURES, 'detectron2');
    const sd = readDetectron2Pkl(join(dir, 'densepose_rcnn_R_18_tiny_random.pkl'));
    const rows = readFileSync(join(dir, 'params.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => /^\s*\d+\s+(\S+)\s+\[([^\]]*)\]\s+(\S+)\s+(\d+)\s+\S+\s+(\S+)\s+(\S+)/.exec(l)!);
    expect(rows.length).toBeGreaterThan(100);
    expect([...sd.keys()]).toEqual(rows.map((r) => r[1]));
    for (const r of rows) {
      const a = sd.get(r[1]!)!;
      const shape = r[2]!.trim() ? r[2]!.split(',').map(Number) : [];
      expect({ name: r[1], shape: a.shape, dtype: a.dtype, n: a.data.length }).toEqual({ name: r[1], shape, dtype: r[3], n: Number(r[4]) });
      // the mean listed in params.txt is an independent check that the bytes, not just the header, are right
      const data = a.data as Float32Array;
      let s = 0;
      for (let i = 0; i < data.length; i++) s += data[i]!;
      const mean = Number(r[5]);
      expect(Math.abs(s / data.length - mean)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(mean)));
      expect(data.byteOffset % 4).toBe(0);
    }
  });

  it('reads Pdist_matrix.pkl (protocol 2, BINSTRING): the condensed distances of n = 480 vertices', () => {
    const m = readPickle(join(FIXTURES, 'densepose_eval', 'Pdist_matrix.pkl')) as Map<string, NdArray>;
    const d = m.get('Pdist_matrix')!;
    expect(d.dtype).toBe('float32');
    expect(d.shape).toEqual([(480 * 479) / 2, 1]);
    const data = d.data as Float32Array;
    expect(data.byteOffset % 4).toBe(0);
    let ok = true;
    for (let i = 0; i < data.length; i++) if (!(data[i]! >= 0 && Number.isFinite(data[i]!))) ok = false;
    expect(ok).toBe(true);
  });

  it('names the file and the entry when a large pickle read from a path is truncated inside the array', () => {
    const full = readFileSync(join(FIXTURES, 'densepose_eval', 'Pdist_matrix.pkl'));
    const dir = mkdtempSync(join(tmpdir(), 'pkl-test-'));
    try {
      const cut = join(dir, 'Pdist_cut.pkl');
      writeFileSync(cut, full.subarray(0, full.length - 1000));
      expectDensePoseError(() => readPickle(cut), 'TRUNCATED_FILE', cut, 'BINSTRING', 'entry "Pdist_matrix"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


describe('readPickle bad input', () => {
  it('names the file and the entry for a pickle cut anywhere', () => {
    const full = readFileSync(join(here, 'sample_p4.pkl'));
    for (let cut = 0; cut < full.length; cut += 7) {
      expectDensePoseError(() => readPickle(full.subarray(0, cut), { name: 'cut.pkl' }), 'TRUNCATED_FILE', 'cut.pkl');
    }
    // inside the f32 array's payload: the entry being read is named
    const at = full.indexOf(Buffer.from(new Float32Array(range(24, (i) => i / 4 - 1)).buffer)) + 10;
    expectDensePoseError(() => readPickle(full.subarray(0, at), { name: 'cut.pkl' }), 'TRUNCATED_FILE', 'cut.pkl', 'entry "f32"');
  });

  it('rejects non-pickles and unsupported features by name', () => {
    expectDensePoseError(() => readPickle(Buffer.from('\x80\x02\xff', 'latin1'), { name: 'x.pkl' }), 'BAD_FILE', 'x.pkl', 'opcode 0xff');
    expectDensePoseError(() => readPickle(Buffer.from('\x80\x02NN.', 'latin1'), { name: 'x.pkl' }), 'BAD_FILE', 'STOP');
    expectDensePoseError(() => readPickle(Buffer.from('\x80\x02X\x01\x00\x00\x00aQ.', 'latin1'), { name: 'm.pth' }), 'UNSUPPORTED', 'persistent');
    expectDensePoseError(() => readDetectron2Pkl(Buffer.from('\x80\x02]q\x00.', 'latin1'), { name: 'l.pkl' }), 'BAD_FILE', 'l.pkl', 'dict');
    expectDensePoseError(() => readPickle(join(here, 'missing.pkl')), 'NOT_FOUND', 'missing.pkl');
  });
});

it('testdata holds only small files', () => {
  for (const f of readdirSync(here)) expect(readFileSync(join(here, f)).length).toBeLessThan(8192);
});
