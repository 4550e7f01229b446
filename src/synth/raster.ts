// Software rasteriser: a visibility buffer (nearest triangle id and 1/z per sample) filled with
// edge functions, then per-sample perspective-correct barycentrics recomputed from the stored
// triangle, so shading runs once per visible sample and never for hidden surfaces.

/** A pinhole camera. Camera coordinates: x right, y down, z forward (OpenCV). */
export interface Camera {
  /** Focal length in pixels. */
  f: number;
  /** Principal point in pixels (pixel centres are at integer + 0.5). */
  cx: number;
  cy: number;
  /** World → camera rotation, row-major 3×3. */
  R: Float64Array;
  /** Camera centre in world coordinates (metres). */
  C: [number, number, number];
}

/** Nearest depth accepted; vertices closer than this drop their triangles. */
export const NEAR = 0.05;

/** The sample grid: `(2W+1)×(2H+1)` samples at half-pixel steps; sample (i, j) sits at pixel coordinates (i/2, j/2). */
export interface VisibilityBuffer {
  width: number;
  height: number;
  /** `[height, width]` 1/z of the nearest surface (0 = empty). */
  invDepth: Float32Array;
  /** `[height, width]` global triangle id of the nearest surface, −1 where empty. */
  tri: Int32Array;
}

export function createVisibilityBuffer(imageWidth: number, imageHeight: number): VisibilityBuffer {
  const width = 2 * imageWidth + 1, height = 2 * imageHeight + 1;
  return { width, height, invDepth: new Float32Array(width * height), tri: new Int32Array(width * height).fill(-1) };
}

export function clearVisibilityBuffer(buf: VisibilityBuffer): void {
  buf.invDepth.fill(0);
  buf.tri.fill(-1);
}

/** Projected vertices in sample units: x, y and 1/z per vertex (1/z < 0 marks a vertex behind the near plane). */
export interface Projected {
  x: Float32Array;
  y: Float32Array;
  iz: Float32Array;
  /** `[V,3]` camera-space positions (metres). */
  cam: Float32Array;
}

/** Project world points `[V,3]` to the sample grid of `camera`. */
export function projectVertices(positions: Float32Array, camera: Camera): Projected {
  const V = positions.length / 3;
  const x = new Float32Array(V), y = new Float32Array(V), iz = new Float32Array(V), cam = new Float32Array(V * 3);
  const R = camera.R, [Cx, Cy, Cz] = camera.C;
  const f2 = 2 * camera.f, cx2 = 2 * camera.cx, cy2 = 2 * camera.cy;
  for (let v = 0; v < V; v++) {
    const px = positions[3 * v]! - Cx, py = positions[3 * v + 1]! - Cy, pz = positions[3 * v + 2]! - Cz;
    const xc = R[0]! * px + R[1]! * py + R[2]! * pz;
    const yc = R[3]! * px + R[4]! * py + R[5]! * pz;
    const zc = R[6]! * px + R[7]! * py + R[8]! * pz;
    cam[3 * v] = xc; cam[3 * v + 1] = yc; cam[3 * v + 2] = zc;
    if (zc < NEAR) { iz[v] = -1; continue; }
    const w = 1 / zc;
    iz[v] = w;
    x[v] = f2 * xc * w + cx2;
    y[v] = f2 * yc * w + cy2;
  }
  return { x, y, iz, cam };
}

/**
 * Rasterise front-facing triangles into `buf`, keeping the nearest per sample.
 * @param triangles `[T,3]` vertex indices into `p`, counter-clockwise seen from outside
 * @param triBase added to the triangle index to make the id stored in `buf.tri`
 */
export function rasterize(buf: VisibilityBuffer, p: Projected, triangles: Uint32Array, triBase: number): void {
  const W = buf.width, H = buf.height, ID = buf.invDepth, TRI = buf.tri;
  const X = p.x, Y = p.y, IZ = p.iz;
  const T = triangles.length / 3;
  for (let t = 0; t < T; t++) {
    const i0 = triangles[3 * t]!, i1 = triangles[3 * t + 1]!, i2 = triangles[3 * t + 2]!;
    const z0 = IZ[i0]!, z1 = IZ[i1]!, z2 = IZ[i2]!;
    if (z0 < 0 || z1 < 0 || z2 < 0) continue;
    const x0 = X[i0]!, y0 = Y[i0]!, x1 = X[i1]!, y1 = Y[i1]!, x2 = X[i2]!, y2 = Y[i2]!;
    // Counter-clockwise from outside turns clockwise in a y-down image: front faces have area < 0.
    const area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
    if (area >= 0) continue;
    let minX = Math.ceil(Math.min(x0, x1, x2)), maxX = Math.floor(Math.max(x0, x1, x2));
    let minY = Math.ceil(Math.min(y0, y1, y2)), maxY = Math.floor(Math.max(y0, y1, y2));
    if (minX < 0) minX = 0;
    if (minY < 0) minY = 0;
    if (maxX > W - 1) maxX = W - 1;
    if (maxY > H - 1) maxY = H - 1;
    if (minX > maxX || minY > maxY) continue;
    // Edge functions, negated so inside is ≥ 0: e_k = A_k·x + B_k·y + C_k, opposite vertex k.
    const inv = -1 / area;
    const A0 = (y1 - y2) * -1, B0 = (x1 - x2), C0 = -(A0 * x1 + B0 * y1);
    const A1 = (y2 - y0) * -1, B1 = (x2 - x0), C1 = -(A1 * x2 + B1 * y2);
    const A2 = (y0 - y1) * -1, B2 = (x0 - x1), C2 = -(A2 * x0 + B2 * y0);
    const id = triBase + t;
    for (let y = minY; y <= maxY; y++) {
      let e0 = A0 * minX + B0 * y + C0, e1 = A1 * minX + B1 * y + C1, e2 = A2 * minX + B2 * y + C2;
      let o = y * W + minX;
      for (let x = minX; x <= maxX; x++, o++, e0 += A0, e1 += A1, e2 += A2) {
        if (e0 < 0 || e1 < 0 || e2 < 0) continue;
        const z = (e0 * z0 + e1 * z1 + e2 * z2) * inv;
        if (z > ID[o]!) {
          ID[o] = z;
          TRI[o] = id;
        }
      }
    }
  }
}

/**
 * Perspective-correct barycentrics of sample (sx, sy) in triangle (i0, i1, i2); writes them to `out`.
 * Screen-space weights are divided by depth and renormalised (attributes are linear in 3D, not on screen).
 */
export function perspectiveBarycentrics(p: Projected, i0: number, i1: number, i2: number, sx: number, sy: number, out: Float64Array): void {
  const x0 = p.x[i0]!, y0 = p.y[i0]!, x1 = p.x[i1]!, y1 = p.y[i1]!, x2 = p.x[i2]!, y2 = p.y[i2]!;
  const area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
  const l0 = ((x1 - sx) * (y2 - sy) - (y1 - sy) * (x2 - sx)) / area;
  const l1 = ((x2 - sx) * (y0 - sy) - (y2 - sy) * (x0 - sx)) / area;
  const l2 = 1 - l0 - l1;
  const w0 = l0 * p.iz[i0]!, w1 = l1 * p.iz[i1]!, w2 = l2 * p.iz[i2]!;
  const s = 1 / (w0 + w1 + w2);
  out[0] = w0 * s; out[1] = w1 * s; out[2] = w2 * s;
}
