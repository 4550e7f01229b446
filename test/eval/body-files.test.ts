import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeMat, writeBodyModelFiles } from '../../src/data/body-files.ts';
import { loadSmplBodyModel } from '../../src/eval/body-model.ts';
import { matVariable, readMat } from '../../src/eval/mat.ts';
import { DensePoseError } from '../../src/errors.ts';

import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../src/runtime/checkpoint/test-fixtures.ts';

const DIR = `${FIXTURES}/densepose_eval`;

describe('MAT v5 reader', () => {
  it.skipIf(SKIP_FIXTURE_TESTS)('reads the fixture files (compressed and uncompressed elements)', () => {
    const f = readMat(`${DIR}/SMPL_subdiv.mat`);
    expect(matVariable(f, 'vertex').dims).toEqual([3, 720]);
    expect(matVariable(f, 'Part_ID_subdiv').class).toBe('uint8');
    expect(matVariable(f, 'U_subdiv').dims).toEqual([1, 720]);
    const parts = Array.from(matVariable(f, "Part_ID_subdiv").data as Uint8Array);
    expect(Math.min(...parts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...parts)).toBeLessThanOrEqual(24);
    const t = readMat(`${DIR}/SMPL_SUBDIV_TRANSFORM.mat`);
    const idx = matVariable(t, 'index');
    expect(idx.dims).toEqual([720, 1]);
    expect(idx.data[0]).toBe(18); // first bytes of the file: 0x4032000000000000
  });

  it('round-trips every integer and float class, compressed or not', () => {
    const vars = [
      { name: 'd', dims: [2, 3], data: Float64Array.of(1.5, -2, 3, 4, 5, 6e10) },
      { name: 's', dims: [1, 2], data: Float32Array.of(0.25, -7) },
      { name: 'i8', dims: [3, 1], data: Int8Array.of(-128, 0, 127) },
      { name: 'u8', dims: [1, 1], data: Uint8Array.of(255) },
      { name: 'i16', dims: [2, 1], data: Int16Array.of(-32768, 32767) },
      { name: 'u16', dims: [1, 2], data: Uint16Array.of(0, 65535) },
      { name: 'i32', dims: [1, 3], data: Int32Array.of(-(2 ** 31), 0, 2 ** 31 - 1) },
      { name: 'u32', dims: [1, 1], data: Uint32Array.of(2 ** 32 - 1) },
    ];
    for (const compress of [true, false]) {
      const f = readMat(encodeMat(vars, { compress }));
      for (const v of vars) {
        const r = matVariable(f, v.name);
        expect(r.dims).toEqual(v.dims);
        expect(r.data.constructor).toBe(v.data.constructor);
        expect(Array.from(r.data as Float64Array)).toEqual(Array.from(v.data as Float64Array));
      }
    }
  });

  it.skipIf(SKIP_FIXTURE_TESTS)('a truncated or corrupt file names the file and the place', () => {
    const bytes = readFileSync(`${DIR}/SMPL_SUBDIV_TRANSFORM.mat`);
    expect(() => readMat(bytes.subarray(0, 1000), { name: 'cut.mat' })).toThrow(/cut\.mat.*file ends while reading variable 0.*at byte/);
    expect(() => readMat(bytes.subarray(0, 60), { name: 'short.mat' })).toThrow(/short\.mat.*128-byte header/);
    const comp = readFileSync(`${DIR}/SMPL_subdiv.mat`);
    expect(() => readMat(comp.subarray(0, 400), { name: 'z.mat' })).toThrow(DensePoseError);
    expect(() => matVariable(readMat(bytes), 'nope')).toThrow(/no variable "nope". Variables: index/);
  });
});

describe('body model files', () => {
  it.skipIf(SKIP_FIXTURE_TESTS)('the fixture body loads: 720 vertices, distances symmetric and zero on the diagonal', () => {
    const body = loadSmplBodyModel(DIR);
    expect(body.numVertices).toBe(720);
    for (const [i, j] of [[0, 5], [17, 400], [719, 3]] as const) {
      expect(body.geodesic(i, j)).toBe(body.geodesic(j, i));
      expect(body.geodesic(i, j)).toBeGreaterThanOrEqual(0);
    }
    expect(body.geodesic(10, 10)).toBe(0);
  });

  it('a body written in the official formats reads back exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-body-'));
    const V = 50;
    const pos = Float64Array.from({ length: 3 * V }, (_, k) => Math.sin(k) * 0.5);
    const dist = (a: number, b: number) => Math.hypot(pos[3 * a]! - pos[3 * b]!, pos[3 * a + 1]! - pos[3 * b + 1]!, pos[3 * a + 2]! - pos[3 * b + 2]!);
    const part = Uint8Array.from({ length: V }, (_, i) => 1 + (i % 24));
    const u = Float64Array.from({ length: V }, (_, i) => (i * 7 % 11) / 10);
    const v = Float64Array.from({ length: V }, (_, i) => (i * 3 % 13) / 12);
    writeBodyModelFiles(dir, { vertexPart: part, vertexU: u, vertexV: v, positions: pos, distance: dist });
    const body = loadSmplBodyModel(dir);
    expect(Array.from(body.vertexPart)).toEqual(Array.from(part));
    expect(Array.from(body.vertexU)).toEqual(Array.from(u));
    for (let a = 0; a < V; a += 7) for (let b = 0; b < V; b += 5) expect(body.geodesic(a, b)).toBeCloseTo(Math.fround(dist(a, b)), 6);
    // truncated pickle: a clear error naming the file
    const pkl = readFileSync(join(dir, 'Pdist_matrix.pkl'));
    writeFileSync(join(dir, 'Pdist_matrix.pkl'), pkl.subarray(0, pkl.length - 100));
    expect(() => loadSmplBodyModel(dir)).toThrow(/Pdist_matrix\.pkl/);
    writeFileSync(join(dir, 'SMPL_SUBDIV_TRANSFORM.mat'), Buffer.alloc(0));
    expect(() => loadSmplBodyModel(dir)).toThrow(/SMPL_SUBDIV_TRANSFORM\.mat.*128-byte header/);
  });

  it('a missing file lists what the directory needs', () => {
    expect(() => loadSmplBodyModel(tmpdir())).toThrow(/SMPL_subdiv\.mat, SMPL_SUBDIV_TRANSFORM\.mat, Pdist_matrix\.pkl/);
  });
});
