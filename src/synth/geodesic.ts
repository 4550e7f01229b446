// Geodesic distances on a triangle mesh by Dijkstra over a Steiner graph: m extra points on every
// edge, and inside each triangle a straight segment between every two boundary points not on the
// same edge. Paths may then cross faces instead of zig-zagging along edges (plain edge Dijkstra
// overestimates by ~7% median); with m = 3 the error on smooth surfaces is well under 1%.
import { DensePoseError } from '../errors.ts';

/** Options of {@link buildSteinerGraph}. */
export interface SteinerOptions {
  /** Steiner points per edge. @default 3 */
  pointsPerEdge?: number;
}

/** A weighted graph in CSR form whose first `numVertices` nodes are the mesh vertices. */
export interface SteinerGraph {
  numVertices: number;
  numNodes: number;
  /** `[numNodes+1]` arc offsets. */
  offsets: Int32Array;
  /** `[numArcs]` arc targets and lengths (metres). */
  targets: Int32Array;
  lengths: Float32Array;
}

/**
 * Build the Steiner graph of a mesh.
 * @param positions `[V,3]` vertex positions
 * @param triangles `[T,3]` vertex indices
 */
export function buildSteinerGraph(positions: ArrayLike<number>, triangles: ArrayLike<number>, options: SteinerOptions = {}): SteinerGraph {
  const m = options.pointsPerEdge ?? 3;
  if (!Number.isInteger(m) || m < 0 || m > 16) throw new DensePoseError('BAD_OPTION', `pointsPerEdge must be an integer in 0..16, got ${m}`, { where: 'buildSteinerGraph' });
  const V = positions.length / 3, T = triangles.length / 3;
  const edgeId = new Map<number, number>();
  const edgeA: number[] = [], edgeB: number[] = [];
  const triEdges = new Int32Array(T * 3);
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < 3; e++) {
      const a = triangles[3 * t + e]!, b = triangles[3 * t + ((e + 1) % 3)]!;
      const lo = Math.min(a, b), hi = Math.max(a, b);
      const key = lo * V + hi;
      let id = edgeId.get(key);
      if (id === undefined) {
        id = edgeA.length;
        edgeId.set(key, id);
        edgeA.push(lo); edgeB.push(hi);
      }
      triEdges[3 * t + e] = id;
    }
  }
  const E = edgeA.length;
  const N = V + E * m;
  const xyz = new Float64Array(N * 3);
  for (let i = 0; i < V * 3; i++) xyz[i] = positions[i]!;
  for (let e = 0; e < E; e++) {
    const a = edgeA[e]!, b = edgeB[e]!;
    for (let k = 0; k < m; k++) {
      const t = (k + 1) / (m + 1), n = V + e * m + k;
      for (let c = 0; c < 3; c++) xyz[3 * n + c] = xyz[3 * a + c]! * (1 - t) + xyz[3 * b + c]! * t;
    }
  }
  // points of one edge in order from its low vertex to its high vertex
  const edgePoints = (e: number, out: number[]): void => {
    out.length = 0;
    out.push(edgeA[e]!);
    for (let k = 0; k < m; k++) out.push(V + e * m + k);
    out.push(edgeB[e]!);
  };
  const from: number[] = [], to: number[] = [];
  // along each edge: consecutive points
  const pts: number[] = [];
  for (let e = 0; e < E; e++) {
    edgePoints(e, pts);
    for (let k = 0; k + 1 < pts.length; k++) { from.push(pts[k]!); to.push(pts[k + 1]!); }
  }
  // across each face: every pair of points on different edges, but not a shared corner with itself
  const p0: number[] = [], p1: number[] = [], p2: number[] = [];
  for (let t = 0; t < T; t++) {
    edgePoints(triEdges[3 * t]!, p0); edgePoints(triEdges[3 * t + 1]!, p1); edgePoints(triEdges[3 * t + 2]!, p2);
    const lists = [p0, p1, p2];
    for (let a = 0; a < 3; a++) {
      const A = lists[a]!, B = lists[(a + 1) % 3]!;
      for (const x of A) for (const y of B) {
        if (x === y) continue;
        // both ends are corners of edge A or of edge B: already along an edge
        if ((x === A[0] || x === A[A.length - 1]) && (y === A[0] || y === A[A.length - 1])) continue;
        if ((x === B[0] || x === B[B.length - 1]) && (y === B[0] || y === B[B.length - 1])) continue;
        from.push(x); to.push(y);
      }
    }
  }
  const deg = new Int32Array(N + 1);
  for (let i = 0; i < from.length; i++) { deg[from[i]! + 1]!++; deg[to[i]! + 1]!++; }
  for (let i = 0; i < N; i++) deg[i + 1]! += deg[i]!;
  const offsets = deg.slice();
  const fill = deg.slice(0, N);
  const targets = new Int32Array(offsets[N]!), lengths = new Float32Array(offsets[N]!);
  for (let i = 0; i < from.length; i++) {
    const a = from[i]!, b = to[i]!;
    const d = Math.hypot(xyz[3 * a]! - xyz[3 * b]!, xyz[3 * a + 1]! - xyz[3 * b + 1]!, xyz[3 * a + 2]! - xyz[3 * b + 2]!);
    targets[fill[a]!] = b; lengths[fill[a]!++] = d;
    targets[fill[b]!] = a; lengths[fill[b]!++] = d;
  }
  return { numVertices: V, numNodes: N, offsets, targets, lengths };
}

/** Single- or multi-source Dijkstra with a binary heap over typed arrays. */
export class Dijkstra {
  readonly dist: Float64Array;
  /** Index of the source that reached each node first (multi-source runs). */
  readonly label: Int32Array;
  private readonly heapNode: Int32Array;
  private readonly heapKey: Float64Array;
  private readonly settled: Uint8Array;
  private readonly wantMark: Uint8Array;

  constructor(private readonly g: SteinerGraph) {
    this.dist = new Float64Array(g.numNodes);
    this.label = new Int32Array(g.numNodes);
    const cap = g.targets.length + g.numNodes + 1;
    this.heapNode = new Int32Array(cap);
    this.heapKey = new Float64Array(cap);
    this.settled = new Uint8Array(g.numNodes);
    this.wantMark = new Uint8Array(g.numNodes);
  }

  /**
   * Distances from `sources` (nodes) to all nodes; `label[n]` = position in `sources` of the nearest.
   * @param wanted nodes whose distances are needed: the search stops once all are settled (others may stay Infinity or be too large)
   */
  run(sources: ArrayLike<number>, wanted?: ArrayLike<number>): Float64Array {
    const { offsets, targets, lengths } = this.g;
    const dist = this.dist, label = this.label, settled = this.settled, hn = this.heapNode, hk = this.heapKey;
    dist.fill(Infinity); settled.fill(0);
    let size = 0;
    const push = (n: number, k: number) => {
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (hk[p]! <= k) break;
        hn[i] = hn[p]!; hk[i] = hk[p]!; i = p;
      }
      hn[i] = n; hk[i] = k;
    };
    for (let s = 0; s < sources.length; s++) {
      const n = sources[s]!;
      dist[n] = 0; label[n] = s;
      push(n, 0);
    }
    // stop early once every wanted node is settled
    let left = Infinity;
    const want = this.wantMark;
    if (wanted) {
      want.fill(0);
      left = 0;
      for (let i = 0; i < wanted.length; i++) if (!want[wanted[i]!]) { want[wanted[i]!] = 1; left++; }
    }
    while (size > 0) {
      const n = hn[0]!, k = hk[0]!;
      // pop: move the last element down from the root
      const ln = hn[--size]!, lk = hk[size]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && hk[c + 1]! < hk[c]!) c++;
        if (hk[c]! >= lk) break;
        hn[i] = hn[c]!; hk[i] = hk[c]!; i = c;
      }
      hn[i] = ln; hk[i] = lk;
      if (settled[n] || k > dist[n]!) continue;
      settled[n] = 1;
      if (want[n] && --left === 0) break;
      const lab = label[n]!;
      for (let a = offsets[n]!, end = offsets[n + 1]!; a < end; a++) {
        const t = targets[a]!, d = k + lengths[a]!;
        if (d < dist[t]!) { dist[t] = d; label[t] = lab; push(t, d); }
      }
    }
    return dist;
  }
}

/** Geodesic distances from mesh vertex `source` to every mesh vertex (convenience for tests and small meshes). */
export function geodesicFrom(graph: SteinerGraph, source: number): Float64Array {
  return new Dijkstra(graph).run([source]).slice(0, graph.numVertices);
}
