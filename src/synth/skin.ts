// Linear blend skinning of the template: body shape in the rest pose (height scale, girth about
// each vertex's capsule axis), then each vertex is the weighted sum of its joints' transforms,
// then the person's placement in the world.
import type { BodyTemplate } from './body.ts';
import { G } from './charts.ts';

/** Body shape of one person. */
export interface BodyShape {
  /** Height relative to the 1.75 m template. */
  scale: number;
  /** Girth of the torso relative to the template. */
  torsoGirth: number;
  /** Girth of arms and legs relative to the template. */
  limbGirth: number;
}

/** A rigid placement: `x_world = R·x + t`, R row-major 3×3. */
export interface Placement {
  R: Float64Array;
  t: [number, number, number];
}

/**
 * Posed vertices and normals in world coordinates.
 * @param fk `[NUM_JOINTS, 12]` transforms from `forwardKinematics(pose, shape.scale)`
 * @returns positions and normals, `[V,3]` each
 */
export function skinBody(tpl: BodyTemplate, shape: BodyShape, fk: Float64Array, place: Placement): { positions: Float32Array; normals: Float32Array } {
  const V = tpl.numVertices;
  const positions = new Float32Array(V * 3);
  const normals = new Float32Array(V * 3);
  const { R, t } = place;
  const s = shape.scale;
  const P = tpl.positions, N = tpl.normals, A = tpl.anchors, SJ = tpl.skinJoint, SW = tpl.skinWeight, VG = tpl.vertexGroup;
  for (let v = 0; v < V; v++) {
    const o = 3 * v;
    const g = VG[v] === G.torso ? shape.torsoGirth : VG[v] === G.head ? 1 : shape.limbGirth;
    const ax = A[o]!, ay = A[o + 1]!, az = A[o + 2]!;
    const x = s * (ax + (P[o]! - ax) * g), y = s * (ay + (P[o + 1]! - ay) * g), z = s * (az + (P[o + 2]! - az) * g);
    const nx = N[o]!, ny = N[o + 1]!, nz = N[o + 2]!;
    let px = 0, py = 0, pz = 0, qx = 0, qy = 0, qz = 0;
    for (let k = 0; k < 4; k++) {
      const w = SW[4 * v + k]!;
      if (w === 0) continue;
      const b = 12 * SJ[4 * v + k]!;
      px += w * (fk[b]! * x + fk[b + 1]! * y + fk[b + 2]! * z + fk[b + 9]!);
      py += w * (fk[b + 3]! * x + fk[b + 4]! * y + fk[b + 5]! * z + fk[b + 10]!);
      pz += w * (fk[b + 6]! * x + fk[b + 7]! * y + fk[b + 8]! * z + fk[b + 11]!);
      qx += w * (fk[b]! * nx + fk[b + 1]! * ny + fk[b + 2]! * nz);
      qy += w * (fk[b + 3]! * nx + fk[b + 4]! * ny + fk[b + 5]! * nz);
      qz += w * (fk[b + 6]! * nx + fk[b + 7]! * ny + fk[b + 8]! * nz);
    }
    positions[o] = R[0]! * px + R[1]! * py + R[2]! * pz + t[0];
    positions[o + 1] = R[3]! * px + R[4]! * py + R[5]! * pz + t[1];
    positions[o + 2] = R[6]! * px + R[7]! * py + R[8]! * pz + t[2];
    const l = 1 / (Math.hypot(qx, qy, qz) || 1);
    normals[o] = (R[0]! * qx + R[1]! * qy + R[2]! * qz) * l;
    normals[o + 1] = (R[3]! * qx + R[4]! * qy + R[5]! * qz) * l;
    normals[o + 2] = (R[6]! * qx + R[7]! * qy + R[8]! * qz) * l;
  }
  return { positions, normals };
}
