// Nearest mesh vertex of a part in (U, V): what the DensePose evaluator snaps every GT and
// predicted point to. The reference takes argmin over all the part's vertices of the Euclidean UV
// distance (first index on ties); we find the same vertex with a uniform grid per part, and cache
// the answer for the 256×256 quantised (U, V) that predictions carry.
import type { BodyModel } from './body-model.ts';

const GRID_CELLS_PER_SIDE_MAX = 64;

interface PartGrid {
  /** Vertex ids of the part, ascending (the reference's order). */
  ids: Int32Array;
  u: Float64Array;
  v: Float64Array;
  side: number;
  /** Cell start offsets into `order` (`side² + 1`). */
  start: Int32Array;
  /** Indices into ids, grouped by cell. */
  order: Int32Array;
}

function cellOf(x: number, side: number): number {
  const c = Math.floor(x * side);
  return c < 0 ? 0 : c >= side ? side - 1 : c;
}

/** Per-part nearest-vertex search over a {@link BodyModel}. */
export class UvNearest {
  private readonly parts: (PartGrid | null)[] = [];
  /** Quantised lookup: part·65536 + u8·256 + v8 → vertex, -2 = not computed yet. */
  private readonly quantised = new Int32Array(25 * 65536).fill(-2);

  constructor(readonly body: BodyModel) {
    const byPart: number[][] = Array.from({ length: 25 }, () => []);
    for (let i = 0; i < body.numVertices; i++) {
      const p = body.vertexPart[i]!;
      if (p >= 1 && p <= 24) byPart[p]!.push(i);
    }
    for (let p = 0; p < 25; p++) {
      const list = byPart[p]!;
      if (p === 0 || list.length === 0) {
        this.parts.push(null);
        continue;
      }
      const ids = Int32Array.from(list);
      const u = Float64Array.from(list, (i) => body.vertexU[i]!);
      const v = Float64Array.from(list, (i) => body.vertexV[i]!);
      const side = Math.max(1, Math.min(GRID_CELLS_PER_SIDE_MAX, Math.round(Math.sqrt(list.length / 2))));
      const counts = new Int32Array(side * side + 1);
      const cell = new Int32Array(list.length);
      for (let k = 0; k < list.length; k++) {
        cell[k] = cellOf(v[k]!, side) * side + cellOf(u[k]!, side);
        counts[cell[k]! + 1]!++;
      }
      for (let c = 0; c < side * side; c++) counts[c + 1]! += counts[c]!;
      const fill = counts.slice();
      const order = new Int32Array(list.length);
      for (let k = 0; k < list.length; k++) order[fill[cell[k]!]!++] = k;
      this.parts.push({ ids, u, v, side, start: counts, order });
    }
  }

  /** Whether part `p` has any vertex. */
  hasPart(p: number): boolean {
    return p >= 1 && p <= 24 && this.parts[p] !== null;
  }

  /**
   * The vertex of part `p` nearest to (u, v), as `argmin sqrt((U−u)² + (V−v)²)` with the lowest
   * vertex id on ties; -1 if `p` is not a part 1..24 with vertices.
   */
  nearest(p: number, u: number, v: number): number {
    if (!(p >= 1 && p <= 24) || !Number.isInteger(p)) return -1;
    const g = this.parts[p];
    if (!g) return -1;
    let best = Infinity, bestK = -1;
    const consider = (k: number): void => {
      const du = g.u[k]! - u, dv = g.v[k]! - v;
      const d = Math.sqrt(du * du + dv * dv);
      if (d < best || (d === best && k < bestK)) {
        best = d;
        bestK = k;
      }
    };
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) {
      // Outside the chart the grid's distance bounds do not hold; search all.
      for (let k = 0; k < g.ids.length; k++) consider(k);
      return g.ids[bestK]!;
    }
    const side = g.side, h = 1 / side;
    const cu = cellOf(u, side), cv = cellOf(v, side);
    for (let r = 0; r <= side; r++) {
      // Every cell at ring r is at least (r−1)·h away; stop once that exceeds the best found.
      if (r >= 2 && (r - 1) * h > best + 1e-12) break;
      const y0 = cv - r, y1 = cv + r, x0 = cu - r, x1 = cu + r;
      for (let y = y0; y <= y1; y++) {
        if (y < 0 || y >= side) continue;
        const edge = y === y0 || y === y1;
        for (let x = x0; x <= x1; x += edge ? 1 : x1 - x0 || 1) {
          if (x >= 0 && x < side) {
            const c = y * side + x;
            for (let s = g.start[c]!; s < g.start[c + 1]!; s++) consider(g.order[s]!);
          }
          if (!edge && x1 === x0) break;
        }
      }
    }
    return g.ids[bestK]!;
  }

  /** {@link nearest} for a prediction's quantised (I, U·255, V·255) bytes, cached. */
  nearestQuantised(p: number, u8: number, v8: number): number {
    if (p < 1 || p > 24) return -1;
    const key = (p << 16) | (u8 << 8) | v8;
    let r = this.quantised[key]!;
    if (r === -2) {
      r = this.nearest(p, u8 / 255, v8 / 255);
      this.quantised[key] = r;
    }
    return r;
  }
}
