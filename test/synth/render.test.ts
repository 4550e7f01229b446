// The rasteriser against an independent ray cast, and the body/charts/symmetry properties.
import { describe, expect, it } from 'vitest';
import { bodyTemplate } from '../../src/synth/body.ts';
import { chartCoords, FINE_TO_COARSE } from '../../src/synth/charts.ts';
import { renderScene } from '../../src/synth/scene.ts';
import type { RenderedScene } from '../../src/synth/scene.ts';
import { flipIUV, flipSymmetry, mirroredChart, uvSymmetryTables } from '../../src/synth/symmetry.ts';
import { getKeyPose, KEY_POSE_NAMES, selfIntersects } from '../../src/synth/pose.ts';
import { Rng } from '../../src/synth/rng.ts';

/** Nearest triangle hit by the ray through pixel (x+0.5, y+0.5): Möller–Trumbore over every person's posed triangles. */
function rayCast(scene: RenderedScene, x: number, y: number): { person: number; tri: number; b1: number; b2: number } | null {
  const { camera: cam, template: tpl } = scene;
  const R = cam.R;
  const dx = (x + 0.5 - cam.cx) / cam.f, dy = (y + 0.5 - cam.cy) / cam.f;
  const d = [R[0]! * dx + R[3]! * dy + R[6]!, R[1]! * dx + R[4]! * dy + R[7]!, R[2]! * dx + R[5]! * dy + R[8]!];
  const o = cam.C;
  let best: { person: number; tri: number; b1: number; b2: number } | null = null, bestT = Infinity;
  for (const person of scene.people) {
    const P = person.vertices;
    for (let t = 0; t < tpl.numTriangles; t++) {
      const a = 3 * tpl.triangles[3 * t]!, b = 3 * tpl.triangles[3 * t + 1]!, c = 3 * tpl.triangles[3 * t + 2]!;
      const e1 = [P[b]! - P[a]!, P[b + 1]! - P[a + 1]!, P[b + 2]! - P[a + 2]!];
      const e2 = [P[c]! - P[a]!, P[c + 1]! - P[a + 1]!, P[c + 2]! - P[a + 2]!];
      const p = [d[1]! * e2[2]! - d[2]! * e2[1]!, d[2]! * e2[0]! - d[0]! * e2[2]!, d[0]! * e2[1]! - d[1]! * e2[0]!];
      const det = e1[0]! * p[0]! + e1[1]! * p[1]! + e1[2]! * p[2]!;
      // front faces only (counter-clockwise from outside: det > 0 for a ray coming from outside)
      if (det < 1e-12) continue;
      const s = [o[0] - P[a]!, o[1] - P[a + 1]!, o[2] - P[a + 2]!];
      const u = (s[0]! * p[0]! + s[1]! * p[1]! + s[2]! * p[2]!) / det;
      if (u < 0 || u > 1) continue;
      const q = [s[1]! * e1[2]! - s[2]! * e1[1]!, s[2]! * e1[0]! - s[0]! * e1[2]!, s[0]! * e1[1]! - s[1]! * e1[0]!];
      const v = (d[0]! * q[0]! + d[1]! * q[1]! + d[2]! * q[2]!) / det;
      if (v < 0 || u + v > 1) continue;
      const tt = (e2[0]! * q[0]! + e2[1]! * q[1]! + e2[2]! * q[2]!) / det;
      if (tt > 0 && tt < bestT) { bestT = tt; best = { person: person.id, tri: t, b1: u, b2: v }; }
    }
  }
  return best;
}

describe('renderer', () => {
  const scene = renderScene({ seed: 11, index: 2, minPeople: 3, maxPeople: 3, width: 160, height: 120 });

  it('writes at each pixel centre the chart coordinates of the surface point the ray hits first', () => {
    const tpl = scene.template;
    const rng = new Rng(5);
    const W = scene.width, H = scene.height;
    const fg: number[] = [], bg: number[] = [];
    for (let p = 0; p < W * H; p++) (scene.partIndex[p]! > 0 ? fg : bg).push(p);
    expect(fg.length).toBeGreaterThan(200);
    let same = 0, n = 0, sameBg = 0;
    const uvErr: number[] = [];
    const uv = new Float32Array(2);
    for (let k = 0; k < 150; k++) {
      const p = fg[Math.floor(rng.next() * fg.length)]!;
      const hit = rayCast(scene, p % W, Math.floor(p / W));
      n++;
      if (!hit) continue;
      const i0 = tpl.triangles[3 * hit.tri]!, i1 = tpl.triangles[3 * hit.tri + 1]!, i2 = tpl.triangles[3 * hit.tri + 2]!;
      const w0 = 1 - hit.b1 - hit.b2;
      const r = [0, 1, 2].map((c) => w0 * tpl.positions[3 * i0 + c]! + hit.b1 * tpl.positions[3 * i1 + c]! + hit.b2 * tpl.positions[3 * i2 + c]!);
      const I = chartCoords(tpl.triGroup[hit.tri]!, r[0]!, r[1]!, r[2]!, uv);
      if (I === scene.partIndex[p] && hit.person === scene.instance[p]) {
        same++;
        uvErr.push(Math.max(Math.abs(uv[0]! - scene.u[p]!), Math.abs(uv[1]! - scene.v[p]!)));
      }
    }
    for (let k = 0; k < 30; k++) {
      const p = bg[Math.floor(rng.next() * bg.length)]!;
      if (rayCast(scene, p % W, Math.floor(p / W)) === null) sameBg++;
    }
    expect(same / n).toBeGreaterThanOrEqual(0.98);
    expect(sameBg).toBe(30);
    uvErr.sort((a, b) => a - b);
    expect(uvErr[Math.floor(uvErr.length / 2)]!).toBeLessThan(1e-4);
    expect(uvErr[Math.floor(uvErr.length * 0.97)]!).toBeLessThan(5e-3);
  });

  it('labels are consistent: I in 0..24, U/V in [0,1], background has instance 0', () => {
    for (let p = 0; p < scene.width * scene.height; p++) {
      const I = scene.partIndex[p]!;
      expect(I).toBeLessThanOrEqual(24);
      expect(I === 0).toBe(scene.instance[p] === 0);
      if (I > 0) {
        expect(scene.u[p]).toBeGreaterThanOrEqual(0); expect(scene.u[p]).toBeLessThanOrEqual(1);
        expect(scene.v[p]).toBeGreaterThanOrEqual(0); expect(scene.v[p]).toBeLessThanOrEqual(1);
      }
    }
  });

  it('same options give the same bytes; another index differs', () => {
    const a = renderScene({ seed: 3, index: 1, width: 96, height: 72 });
    const rgb = a.rgb.slice(), part = a.partIndex.slice();
    const b = renderScene({ seed: 3, index: 1, width: 96, height: 72 });
    expect(Buffer.from(b.rgb).equals(Buffer.from(rgb))).toBe(true);
    expect(Buffer.from(b.partIndex).equals(Buffer.from(part))).toBe(true);
    const c = renderScene({ seed: 3, index: 2, width: 96, height: 72 });
    expect(Buffer.from(c.rgb).equals(Buffer.from(rgb))).toBe(false);
  });
});

describe('body and charts', () => {
  const tpl = bodyTemplate();

  it('is one closed surface (almost every edge shared by exactly two opposite triangles) with all 24 parts', () => {
    const count = new Map<number, number>();
    const V = tpl.numVertices;
    for (let t = 0; t < tpl.numTriangles; t++) for (let e = 0; e < 3; e++) {
      const a = tpl.triangles[3 * t + e]!, b = tpl.triangles[3 * t + ((e + 1) % 3)]!;
      count.set(a * V + b, (count.get(a * V + b) ?? 0) + 1);
    }
    let bad = 0;
    for (const [k, c] of count) if (c !== 1 || count.get((k % V) * V + Math.floor(k / V)) !== 1) bad++;
    expect(bad / count.size).toBeLessThan(0.002);
    const parts = new Set<number>();
    const uv = new Float32Array(2);
    for (let t = 0; t < tpl.numTriangles; t++) {
      const v = 3 * tpl.triangles[3 * t]!;
      parts.add(chartCoords(tpl.triGroup[t]!, tpl.positions[v]!, tpl.positions[v + 1]!, tpl.positions[v + 2]!, uv));
    }
    expect([...parts].sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it('charts are continuous: neighbouring vertices of one part have nearby U, V', () => {
    const uv = new Float32Array(2), uv2 = new Float32Array(2);
    let jumps = 0, pairs = 0;
    for (let t = 0; t < tpl.numTriangles; t++) {
      const g = tpl.triGroup[t]!;
      for (let e = 0; e < 3; e++) {
        const a = 3 * tpl.triangles[3 * t + e]!, b = 3 * tpl.triangles[3 * t + ((e + 1) % 3)]!;
        const Ia = chartCoords(g, tpl.positions[a]!, tpl.positions[a + 1]!, tpl.positions[a + 2]!, uv);
        const Ib = chartCoords(g, tpl.positions[b]!, tpl.positions[b + 1]!, tpl.positions[b + 2]!, uv2);
        if (Ia !== Ib) continue;
        pairs++;
        if (Math.abs(uv[0]! - uv2[0]!) > 0.25 || Math.abs(uv[1]! - uv2[1]!) > 0.25) jumps++;
      }
    }
    // angle-based charts have poles (the crotch under the torso's axis, the shoulder top over the
    // arm's): there U turns fast over one edge; everywhere else it is smooth
    expect(jumps / pairs).toBeLessThan(6e-3);
  });

  it('flip symmetry: the mirror of a body point has (partSwap[I], mapped U, V); tables agree', () => {
    expect(flipSymmetry.partSwap.length).toBe(25);
    for (let i = 0; i <= 24; i++) expect(flipSymmetry.partSwap[flipSymmetry.partSwap[i]!]).toBe(i);
    for (let i = 1; i <= 24; i++) expect(FINE_TO_COARSE[flipSymmetry.partSwap[i]!]).not.toBe(0);
    const uv = new Float32Array(2), mv = new Float32Array(2), f = [0, 0];
    let ok = 0, n = 0;
    for (let v = 0; v < tpl.numVertices; v += 7) {
      const x = tpl.positions[3 * v]!, y = tpl.positions[3 * v + 1]!, z = tpl.positions[3 * v + 2]!;
      const g = tpl.vertexGroup[v]!;
      const I = chartCoords(g, x, y, z, uv);
      const Im = mirroredChart(g, x, y, z, mv);
      const If = flipIUV(I, uv[0]!, uv[1]!, f);
      n++;
      if (If === Im && Math.abs(f[0]! - mv[0]!) < 1e-5 && Math.abs(f[1]! - mv[1]!) < 1e-5) ok++;
    }
    // points exactly on a half's seam may fall on either side
    expect(ok / n).toBeGreaterThan(0.99);
    const tables = uvSymmetryTables();
    expect(tables.U[0]![0 * 256 + 10]).toBeCloseTo(255 - 10, 4); // torso back: U mirrored
    expect(tables.U[2]![5 * 256 + 10]).toBeCloseTo(10, 4); // right hand: identity
  });

  it('key poses respect joint limits and do not self-intersect', () => {
    for (const name of KEY_POSE_NAMES) expect(selfIntersects(getKeyPose(name)), name).toBe(false);
    expect(() => getKeyPose('dab')).toThrow(/Unknown key pose "dab". Expected one of: standing/);
  });
});
