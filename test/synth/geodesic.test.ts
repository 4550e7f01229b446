// Steiner-graph geodesics against analytic distances on a sphere and a cylinder.
import { describe, expect, it } from 'vitest';
import { buildSteinerGraph, Dijkstra } from '../../src/synth/geodesic.ts';
import { Rng } from '../../src/synth/rng.ts';

/** Icosphere of radius 1 subdivided `level` times. */
function icosphere(level: number): { positions: number[]; triangles: number[] } {
  const t = (1 + Math.sqrt(5)) / 2;
  let pos: number[][] = [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]];
  let tris = [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]];
  const unit = (p: number[]) => { const l = Math.hypot(p[0]!, p[1]!, p[2]!); return p.map((x) => x / l); };
  pos = pos.map(unit);
  for (let l = 0; l < level; l++) {
    const mid = new Map<string, number>();
    const m = (a: number, b: number) => {
      const k = a < b ? `${a},${b}` : `${b},${a}`;
      let i = mid.get(k);
      if (i === undefined) { i = pos.length; pos.push(unit(pos[a]!.map((x, c) => (x + pos[b]![c]!) / 2))); mid.set(k, i); }
      return i;
    };
    tris = tris.flatMap(([a, b, c]) => { const ab = m(a!, b!), bc = m(b!, c!), ca = m(c!, a!); return [[a!, ab, ca], [b!, bc, ab], [c!, ca, bc], [ab, bc, ca]]; });
  }
  return { positions: pos.flat(), triangles: tris.flat() };
}

/** Open cylinder of radius r, height h: `n` around × `k` rows, quads split along alternating diagonals. */
function cylinder(r: number, h: number, n: number, k: number): { positions: number[]; triangles: number[] } {
  const positions: number[] = [], triangles: number[] = [];
  for (let j = 0; j <= k; j++) for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    positions.push(r * Math.cos(a), (h * j) / k, r * Math.sin(a));
  }
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) {
    const a = j * n + i, b = j * n + ((i + 1) % n), c = a + n, d = b + n;
    if ((i + j) % 2) triangles.push(a, b, d, a, d, c);
    else triangles.push(a, b, c, b, d, c);
  }
  return { positions, triangles };
}

describe('geodesics', () => {
  it('sphere: within 2% of the great-circle distance; symmetric; triangle inequality', () => {
    const { positions, triangles } = icosphere(3);
    const g = buildSteinerGraph(positions, triangles, { pointsPerEdge: 3 });
    const dj = new Dijkstra(g);
    const rng = new Rng(1);
    const V = positions.length / 3;
    const src = Array.from({ length: 6 }, () => rng.int(0, V - 1));
    const rows = src.map((s) => dj.run([s]).slice(0, V));
    let worst = 0;
    const errs: number[] = [];
    src.forEach((s, i) => {
      for (let v = 0; v < V; v++) {
        const dot = positions[3 * s]! * positions[3 * v]! + positions[3 * s + 1]! * positions[3 * v + 1]! + positions[3 * s + 2]! * positions[3 * v + 2]!;
        const exact = Math.acos(Math.max(-1, Math.min(1, dot)));
        if (exact < 0.3) continue;
        const e = Math.abs(rows[i]![v]! - exact) / exact;
        errs.push(e);
        worst = Math.max(worst, e);
      }
    });
    errs.sort((a, b) => a - b);
    expect(worst).toBeLessThan(0.02);
    // plain edge Dijkstra is clearly worse: the Steiner points matter
    const plain = new Dijkstra(buildSteinerGraph(positions, triangles, { pointsPerEdge: 0 })).run([src[0]!]);
    let plainErr = 0, n = 0;
    for (let v = 0; v < V; v++) {
      const dot = positions[3 * src[0]!]! * positions[3 * v]! + positions[3 * src[0]! + 1]! * positions[3 * v + 1]! + positions[3 * src[0]! + 2]! * positions[3 * v + 2]!;
      const exact = Math.acos(Math.max(-1, Math.min(1, dot)));
      if (exact > 0.3) { plainErr += (plain[v]! - exact) / exact; n++; }
    }
    expect(plainErr / n).toBeGreaterThan(3 * errs[Math.floor(errs.length / 2)]!);
    for (let i = 0; i < src.length; i++) for (let j = 0; j < src.length; j++) {
      expect(rows[i]![src[j]!]!).toBeCloseTo(rows[j]![src[i]!]!, 9);
      for (let k = 0; k < src.length; k++) expect(rows[i]![src[k]!]!).toBeLessThanOrEqual(rows[i]![src[j]!]! + rows[j]![src[k]!]! + 1e-9);
    }
  });

  it('cylinder: within 2% of the unrolled distance', () => {
    const r = 0.5, h = 2;
    const { positions, triangles } = cylinder(r, h, 48, 40);
    const g = buildSteinerGraph(positions, triangles, { pointsPerEdge: 3 });
    const dj = new Dijkstra(g);
    const V = positions.length / 3;
    let worst = 0;
    for (const s of [20 * 48 + 3, 5 * 48 + 30]) {
      const d = dj.run([s]);
      for (let v = 0; v < V; v++) {
        let da = Math.abs(Math.atan2(positions[3 * v + 2]!, positions[3 * v]!) - Math.atan2(positions[3 * s + 2]!, positions[3 * s]!));
        if (da > Math.PI) da = 2 * Math.PI - da;
        // the mesh is a 48-gon prism: its unrolled circumference is the polygon's perimeter
        const arc = da * r * (Math.sin(Math.PI / 48) / (Math.PI / 48));
        const exact = Math.hypot(arc, positions[3 * v + 1]! - positions[3 * s + 1]!);
        if (exact < 0.3) continue;
        worst = Math.max(worst, Math.abs(d[v]! - exact) / exact);
      }
    }
    expect(worst).toBeLessThan(0.02);
  });
});
