// The procedural body: a smooth union of tapered elliptic capsules around the skeleton's bones,
// polygonised once (surface nets on a grid, vertices projected onto the implicit surface) into one
// welded, closed triangle mesh in metres. Each triangle belongs to the coarse part of the capsule
// nearest its centre; each vertex carries linear-blend-skinning weights from its distance to the
// bones' capsules and an "anchor" on its capsule's axis, along which body shape scales girth.
import { G } from './charts.ts';
import { J, REST_JOINTS } from './skeleton.ts';

type Vec3 = readonly [number, number, number];

/** One capsule of the body: axis a→b, radii at both ends, cross-section scales, the bone (joint) that moves it and its coarse part. */
interface Primitive {
  a: Vec3;
  b: Vec3;
  ra: number;
  rb: number;
  /** Scale of the cross-section along the axis's sideways direction. */
  sw: number;
  /** Scale of the cross-section along the forward direction (projected ⟂ axis). */
  sd: number;
  bone: number;
  group: number;
}

const P = (j: number): Vec3 => REST_JOINTS[j]!;
const lerp3 = (a: Vec3, b: Vec3, t: number): Vec3 => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const mirror = (p: Primitive, bones: Record<number, number>, groups: Record<number, number>): Primitive => ({
  ...p, a: [-p.a[0], p.a[1], p.a[2]], b: [-p.b[0], p.b[1], p.b[2]], bone: bones[p.bone] ?? p.bone, group: groups[p.group] ?? p.group,
});

const LEFT: Primitive[] = [
  { a: P(J.l_shoulder), b: P(J.l_elbow), ra: 0.052, rb: 0.04, sw: 1, sd: 1, bone: J.l_shoulder, group: G.lUpperArm },
  { a: P(J.l_elbow), b: P(J.l_wrist), ra: 0.042, rb: 0.029, sw: 1, sd: 0.9, bone: J.l_elbow, group: G.lLowerArm },
  { a: lerp3(P(J.l_wrist), P(J.l_hand), 0.12), b: lerp3(P(J.l_wrist), P(J.l_hand), 0.78), ra: 0.042, rb: 0.04, sw: 0.42, sd: 1, bone: J.l_wrist, group: G.lHand },
  { a: P(J.l_hip), b: P(J.l_knee), ra: 0.088, rb: 0.056, sw: 1, sd: 1, bone: J.l_hip, group: G.lUpperLeg },
  { a: P(J.l_knee), b: P(J.l_ankle), ra: 0.056, rb: 0.038, sw: 1, sd: 1.05, bone: J.l_knee, group: G.lLowerLeg },
  { a: [0.13, 0.05, -0.03], b: P(J.l_toe), ra: 0.042, rb: 0.036, sw: 1, sd: 0.7, bone: J.l_ankle, group: G.lFoot },
];
const TO_RIGHT_BONE = { [J.l_shoulder]: J.r_shoulder, [J.l_elbow]: J.r_elbow, [J.l_wrist]: J.r_wrist, [J.l_hip]: J.r_hip, [J.l_knee]: J.r_knee, [J.l_ankle]: J.r_ankle };
const TO_RIGHT_GROUP = { [G.lUpperArm]: G.rUpperArm, [G.lLowerArm]: G.rLowerArm, [G.lHand]: G.rHand, [G.lUpperLeg]: G.rUpperLeg, [G.lLowerLeg]: G.rLowerLeg, [G.lFoot]: G.rFoot };

/** All capsules of the template body. */
export const PRIMITIVES: readonly Primitive[] = [
  // torso: hips, belly, chest, shoulder girdle
  { a: [-0.075, 0.9, -0.005], b: [0.075, 0.9, -0.005], ra: 0.105, rb: 0.105, sw: 1, sd: 0.95, bone: J.pelvis, group: G.torso },
  { a: P(J.pelvis), b: P(J.spine), ra: 0.135, rb: 0.128, sw: 1, sd: 0.72, bone: J.pelvis, group: G.torso },
  { a: P(J.spine), b: P(J.chest), ra: 0.128, rb: 0.148, sw: 1, sd: 0.7, bone: J.spine, group: G.torso },
  { a: P(J.chest), b: [0, 1.4, -0.02], ra: 0.148, rb: 0.125, sw: 1, sd: 0.68, bone: J.chest, group: G.torso },
  { a: [-0.17, 1.43, -0.02], b: [0.17, 1.43, -0.02], ra: 0.058, rb: 0.058, sw: 1, sd: 1, bone: J.chest, group: G.torso },
  // head: neck, skull, jaw, nose
  { a: [0, 1.47, -0.025], b: [0, 1.58, -0.01], ra: 0.056, rb: 0.052, sw: 1, sd: 1, bone: J.neck, group: G.head },
  { a: [0, 1.635, -0.005], b: [0, 1.69, -0.01], ra: 0.086, rb: 0.084, sw: 1, sd: 1.15, bone: J.neck, group: G.head },
  { a: [0, 1.585, 0.035], b: [0, 1.63, 0.045], ra: 0.058, rb: 0.062, sw: 1, sd: 1, bone: J.neck, group: G.head },
  { a: [0, 1.645, 0.095], b: [0, 1.625, 0.108], ra: 0.012, rb: 0.015, sw: 1, sd: 1, bone: J.neck, group: G.head },
  ...LEFT,
  ...LEFT.map((p) => mirror(p, TO_RIGHT_BONE, TO_RIGHT_GROUP)),
];

/** Blend radius of the smooth union (metres). */
const BLEND = 0.024;

interface Frame {
  ax: number; ay: number; az: number; len: number;
  wx: number; wy: number; wz: number;
  dx: number; dy: number; dz: number;
}
const FRAMES: Frame[] = PRIMITIVES.map((p) => {
  let ax = p.b[0] - p.a[0], ay = p.b[1] - p.a[1], az = p.b[2] - p.a[2];
  const len = Math.hypot(ax, ay, az);
  ax /= len; ay /= len; az /= len;
  // forward projected ⟂ axis (the depth direction), then width = depth × axis
  let dx = -az * ax, dy = -az * ay, dz = 1 - az * az;
  const dl = Math.hypot(dx, dy, dz);
  dx /= dl; dy /= dl; dz /= dl;
  const wx = dy * az - dz * ay, wy = dz * ax - dx * az, wz = dx * ay - dy * ax;
  return { ax, ay, az, len, wx, wy, wz, dx, dy, dz };
});

/** Signed distance-like value of primitive k at (x, y, z); writes the axis parameter t ∈ [0,1] to `tOut[0]` when given. */
export function primitiveField(k: number, x: number, y: number, z: number, tOut?: Float64Array): number {
  const p = PRIMITIVES[k]!, f = FRAMES[k]!;
  const px = x - p.a[0], py = y - p.a[1], pz = z - p.a[2];
  const s = px * f.ax + py * f.ay + pz * f.az;
  const t = s <= 0 ? 0 : s >= f.len ? 1 : s / f.len;
  if (tOut) tOut[0] = t;
  const r = p.ra + (p.rb - p.ra) * t;
  const along = s - t * f.len;
  const w = (px * f.wx + py * f.wy + pz * f.wz) / p.sw;
  const d = (px * f.dx + py * f.dy + pz * f.dz) / p.sd;
  return (Math.sqrt(along * along + w * w + d * d) - r) * Math.min(1, p.sw, p.sd);
}

/** The body's implicit function (negative inside). */
export function bodyField(x: number, y: number, z: number): number {
  let m = Infinity;
  for (let k = 0; k < PRIMITIVES.length; k++) {
    const d = primitiveField(k, x, y, z);
    if (m === Infinity) { m = d; continue; }
    const h = BLEND - Math.abs(m - d);
    m = (m < d ? m : d) - (h > 0 ? (h * h) / (4 * BLEND) : 0);
  }
  return m;
}

/** Index of the primitive nearest (x, y, z) (smallest field). */
export function nearestPrimitive(x: number, y: number, z: number): number {
  let best = 0, bd = Infinity;
  for (let k = 0; k < PRIMITIVES.length; k++) {
    const d = primitiveField(k, x, y, z);
    if (d < bd) { bd = d; best = k; }
  }
  return best;
}

/** The rest-pose template mesh with everything posing and rendering need. */
export interface BodyTemplate {
  numVertices: number;
  numTriangles: number;
  /** `[V,3]` rest positions (metres). */
  positions: Float32Array;
  /** `[V,3]` unit outward normals at rest. */
  normals: Float32Array;
  /** `[T,3]` vertex indices, counter-clockwise seen from outside. */
  triangles: Uint32Array;
  /** `[T]` coarse part 1..14 of each triangle. */
  triGroup: Uint8Array;
  /** `[V]` coarse part of the capsule nearest each vertex. */
  vertexGroup: Uint8Array;
  /** `[V,3]` nearest point on the axis of the vertex's capsule (girth scales about it). */
  anchors: Float32Array;
  /** `[V,4]` joints whose transforms skin each vertex, and their weights (sum 1). */
  skinJoint: Uint8Array;
  skinWeight: Float32Array;
}

/** Options of {@link buildBodyTemplate}. */
export interface BodyTemplateOptions {
  /** Grid spacing of the polygonisation (metres). @default 0.02 */
  spacing?: number;
}

const cache = new Map<number, BodyTemplate>();

/** The template mesh (built once per spacing and cached). */
export function bodyTemplate(options: BodyTemplateOptions = {}): BodyTemplate {
  const h = options.spacing ?? 0.02;
  let t = cache.get(h);
  if (!t) {
    t = buildBodyTemplate(h);
    cache.set(h, t);
  }
  return t;
}

function buildBodyTemplate(h: number): BodyTemplate {
  // grid symmetric about x = 0 so the mesh is mirror-symmetric
  const half = Math.ceil(0.7 / h) + 0.5;
  const x0 = -half * h, y0 = -0.05, z0 = -0.25;
  const nx = 2 * Math.ceil(half) + 1, ny = Math.ceil(1.9 / h), nz = Math.ceil(0.5 / h);
  const F = new Float32Array(nx * ny * nz);
  const idx = (i: number, j: number, k: number) => (k * ny + j) * nx + i;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    F[idx(i, j, k)] = bodyField(x0 + i * h, y0 + j * h, z0 + k * h);
  }
  // one vertex per cell that the surface crosses: the mean of its edges' crossings
  const cellVertex = new Int32Array((nx - 1) * (ny - 1) * (nz - 1)).fill(-1);
  const cidx = (i: number, j: number, k: number) => (k * (ny - 1) + j) * (nx - 1) + i;
  const pos: number[] = [];
  const corner = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]] as const;
  const edges = [[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6], [3, 7]] as const;
  const fv = new Float64Array(8);
  for (let k = 0; k < nz - 1; k++) for (let j = 0; j < ny - 1; j++) for (let i = 0; i < nx - 1; i++) {
    let inside = 0;
    for (let c = 0; c < 8; c++) {
      const [ci, cj, ck] = corner[c]!;
      fv[c] = F[idx(i + ci, j + cj, k + ck)]!;
      if (fv[c]! < 0) inside++;
    }
    if (inside === 0 || inside === 8) continue;
    let sx = 0, sy = 0, sz = 0, n = 0;
    for (const [e0, e1] of edges) {
      const f0 = fv[e0]!, f1 = fv[e1]!;
      if (f0 < 0 === f1 < 0) continue;
      const t = f0 / (f0 - f1);
      const c0 = corner[e0]!, c1 = corner[e1]!;
      sx += c0[0] + (c1[0] - c0[0]) * t; sy += c0[1] + (c1[1] - c0[1]) * t; sz += c0[2] + (c1[2] - c0[2]) * t;
      n++;
    }
    cellVertex[cidx(i, j, k)] = pos.length / 3;
    pos.push(x0 + (i + sx / n) * h, y0 + (j + sy / n) * h, z0 + (k + sz / n) * h);
  }
  // a quad around every grid edge the surface crosses, facing from inside to outside
  const tris: number[] = [];
  const quad = (a: number, b: number, c: number, d: number, flip: boolean) => {
    if (flip) [b, d] = [d, b];
    const pa = a * 3, pb = b * 3, pc = c * 3, pd = d * 3;
    const dac = (pos[pa]! - pos[pc]!) ** 2 + (pos[pa + 1]! - pos[pc + 1]!) ** 2 + (pos[pa + 2]! - pos[pc + 2]!) ** 2;
    const dbd = (pos[pb]! - pos[pd]!) ** 2 + (pos[pb + 1]! - pos[pd + 1]!) ** 2 + (pos[pb + 2]! - pos[pd + 2]!) ** 2;
    if (dac <= dbd) tris.push(a, b, c, a, c, d);
    else tris.push(a, b, d, b, c, d);
  };
  for (let k = 1; k < nz - 1; k++) for (let j = 1; j < ny - 1; j++) for (let i = 1; i < nx - 1; i++) {
    const f = F[idx(i, j, k)]! < 0;
    if (i < nx - 1 && f !== F[idx(i + 1, j, k)]! < 0) {
      quad(cellVertex[cidx(i, j - 1, k - 1)]!, cellVertex[cidx(i, j, k - 1)]!, cellVertex[cidx(i, j, k)]!, cellVertex[cidx(i, j - 1, k)]!, !f);
    }
    if (j < ny - 1 && f !== F[idx(i, j + 1, k)]! < 0) {
      quad(cellVertex[cidx(i - 1, j, k - 1)]!, cellVertex[cidx(i - 1, j, k)]!, cellVertex[cidx(i, j, k)]!, cellVertex[cidx(i, j, k - 1)]!, !f);
    }
    if (k < nz - 1 && f !== F[idx(i, j, k + 1)]! < 0) {
      quad(cellVertex[cidx(i - 1, j - 1, k)]!, cellVertex[cidx(i, j - 1, k)]!, cellVertex[cidx(i, j, k)]!, cellVertex[cidx(i - 1, j, k)]!, !f);
    }
  }
  const V = pos.length / 3;
  const positions = Float32Array.from(pos);
  const normals = new Float32Array(V * 3);
  const e = 1e-4;
  for (let v = 0; v < V; v++) {
    let x = positions[3 * v]!, y = positions[3 * v + 1]!, z = positions[3 * v + 2]!;
    let gx = 0, gy = 0, gz = 0;
    // Newton steps onto the implicit surface along its gradient
    for (let it = 0; it < 4; it++) {
      const f0 = bodyField(x, y, z);
      gx = (bodyField(x + e, y, z) - bodyField(x - e, y, z)) / (2 * e);
      gy = (bodyField(x, y + e, z) - bodyField(x, y - e, z)) / (2 * e);
      gz = (bodyField(x, y, z + e) - bodyField(x, y, z - e)) / (2 * e);
      const g2 = gx * gx + gy * gy + gz * gz;
      if (g2 < 1e-12) break;
      let step = f0 / g2;
      const sl = Math.abs(step) * Math.sqrt(g2);
      if (sl > h * 0.5) step *= (h * 0.5) / sl;
      x -= step * gx; y -= step * gy; z -= step * gz;
    }
    positions[3 * v] = x; positions[3 * v + 1] = y; positions[3 * v + 2] = z;
    const gl = Math.hypot(gx, gy, gz) || 1;
    normals[3 * v] = gx / gl; normals[3 * v + 1] = gy / gl; normals[3 * v + 2] = gz / gl;
  }
  const triangles = Uint32Array.from(tris);
  const T = triangles.length / 3;
  const triGroup = new Uint8Array(T);
  for (let t = 0; t < T; t++) {
    const a = triangles[3 * t]! * 3, b = triangles[3 * t + 1]! * 3, c = triangles[3 * t + 2]! * 3;
    const cx = (positions[a]! + positions[b]! + positions[c]!) / 3;
    const cy = (positions[a + 1]! + positions[b + 1]! + positions[c + 1]!) / 3;
    const cz = (positions[a + 2]! + positions[b + 2]! + positions[c + 2]!) / 3;
    triGroup[t] = PRIMITIVES[nearestPrimitive(cx, cy, cz)]!.group;
  }
  const vertexGroup = new Uint8Array(V);
  const anchors = new Float32Array(V * 3);
  const skinJoint = new Uint8Array(V * 4);
  const skinWeight = new Float32Array(V * 4);
  const tt = new Float64Array(1);
  const d = new Float64Array(PRIMITIVES.length);
  const jw = new Float64Array(REST_JOINTS.length);
  for (let v = 0; v < V; v++) {
    const x = positions[3 * v]!, y = positions[3 * v + 1]!, z = positions[3 * v + 2]!;
    let best = 0;
    for (let k = 0; k < PRIMITIVES.length; k++) {
      d[k] = primitiveField(k, x, y, z);
      if (d[k]! < d[best]!) best = k;
    }
    const p = PRIMITIVES[best]!;
    vertexGroup[v] = p.group;
    primitiveField(best, x, y, z, tt);
    const anchor = lerp3(p.a, p.b, tt[0]!);
    anchors.set(anchor, 3 * v);
    // Skin weights fall off with how much farther a capsule is than the nearest one.
    jw.fill(0);
    for (let k = 0; k < PRIMITIVES.length; k++) {
      const gap = d[k]! - d[best]!;
      if (gap < 0.05) jw[PRIMITIVES[k]!.bone]! += Math.exp(-gap / 0.01) * (1 - gap / 0.05);
    }
    for (let s = 0; s < 4; s++) {
      let bj = 0;
      for (let j = 1; j < jw.length; j++) if (jw[j]! > jw[bj]!) bj = j;
      skinJoint[4 * v + s] = bj;
      skinWeight[4 * v + s] = jw[bj]!;
      jw[bj] = 0;
    }
    const sum = skinWeight[4 * v]! + skinWeight[4 * v + 1]! + skinWeight[4 * v + 2]! + skinWeight[4 * v + 3]!;
    for (let s = 0; s < 4; s++) skinWeight[4 * v + s]! /= sum;
  }
  return { numVertices: V, numTriangles: T, positions, normals, triangles, triGroup, vertexGroup, anchors, skinJoint, skinWeight };
}
