// The 24 DensePose charts on our body. A body point belongs to one of the 14 coarse parts (its
// "group", numbered as `dp_masks`), and the group's chart function maps the point's rest-pose
// position to (I, U, V). Each function is continuous on its chart, so U and V vary smoothly over
// each part, and each is mirror-consistent so a horizontal flip is a part swap plus a fixed U/V map
// (see symmetry.ts). The functions take rest-pose positions of the mean template, so ground truth
// does not depend on the pose or body shape of a person.
import { J, REST_JOINTS } from './skeleton.ts';

/** Coarse parts (the 14 `dp_masks`), 1-based as in COCO-DensePose. */
export const COARSE_PART_NAMES = [
  'torso', 'right_hand', 'left_hand', 'left_foot', 'right_foot', 'right_upper_leg', 'left_upper_leg',
  'right_lower_leg', 'left_lower_leg', 'left_upper_arm', 'right_upper_arm', 'left_lower_arm', 'right_lower_arm', 'head',
] as const;
export const G = {
  torso: 1, rHand: 2, lHand: 3, lFoot: 4, rFoot: 5, rUpperLeg: 6, lUpperLeg: 7, rLowerLeg: 8, lLowerLeg: 9,
  lUpperArm: 10, rUpperArm: 11, lLowerArm: 12, rLowerArm: 13, head: 14,
} as const;

/** Fine part (1..24) → coarse part (1..14), index 0 unused. */
export const FINE_TO_COARSE = Uint8Array.from([0, 1, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 14]);

type Vec3 = [number, number, number];
const sub = (a: readonly number[], b: readonly number[]): Vec3 => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
const dot = (a: readonly number[], b: readonly number[]): number => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
const norm = (a: Vec3): Vec3 => {
  const l = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / l, a[1] / l, a[2] / l];
};
/** `v` minus its component along unit `a`, normalised. */
const orth = (v: Vec3, a: Vec3): Vec3 => {
  const d = dot(v, a);
  return norm([v[0] - d * a[0], v[1] - d * a[1], v[2] - d * a[2]]);
};

type ChartKind = 'torso' | 'head' | 'limb-front-back' | 'limb-in-out' | 'cap';
/** A chart frame: origin, unit axis, length, unit `out` (away from the midline) and `fwd` (forward), both ⟂ axis. */
interface Chart {
  kind: ChartKind;
  /** Fine parts: [first half, second half] (back/front, inside/outside, right/left); equal for caps. */
  parts: [number, number];
  o: Vec3;
  axis: Vec3;
  len: number;
  out: Vec3;
  fwd: Vec3;
  /** Caps: how far past the distal joint the surface ends (metres). */
  reach: number;
}

/** @param back how far behind joint `a` the chart starts (the heel lies behind the ankle) */
function limb(kind: ChartKind, parts: [number, number], a: number, b: number, side: 1 | -1, reach = 0, back = 0): Chart {
  const d = sub(REST_JOINTS[b]!, REST_JOINTS[a]!);
  const axis = norm(d);
  const o = REST_JOINTS[a]!.map((x, i) => x - back * axis[i]!) as Vec3;
  const len = Math.hypot(...d) + back;
  return { kind, parts, o, axis, len, out: orth([side, 0, 0], axis), fwd: orth([0, 0, 1], axis), reach };
}

/** Chart frame of each coarse part (index 1..14). */
export const CHARTS: readonly Chart[] = [
  undefined as unknown as Chart,
  { kind: 'torso', parts: [1, 2], o: [0, 0.8, -0.01], axis: [0, 1, 0], len: 0.72, out: [1, 0, 0], fwd: [0, 0, 1], reach: 0 },
  limb('cap', [3, 3], J.r_wrist, J.r_hand, -1, 0.03, 0.03),
  limb('cap', [4, 4], J.l_wrist, J.l_hand, 1, 0.03, 0.03),
  limb('cap', [5, 5], J.l_ankle, J.l_toe, 1, 0.04, 0.09),
  limb('cap', [6, 6], J.r_ankle, J.r_toe, -1, 0.04, 0.09),
  limb('limb-front-back', [7, 9], J.r_hip, J.r_knee, -1),
  limb('limb-front-back', [8, 10], J.l_hip, J.l_knee, 1),
  limb('limb-front-back', [11, 13], J.r_knee, J.r_ankle, -1),
  limb('limb-front-back', [12, 14], J.l_knee, J.l_ankle, 1),
  limb('limb-in-out', [15, 17], J.l_shoulder, J.l_elbow, 1),
  limb('limb-in-out', [16, 18], J.r_shoulder, J.r_elbow, -1),
  limb('limb-in-out', [19, 21], J.l_elbow, J.l_wrist, 1),
  limb('limb-in-out', [20, 22], J.r_elbow, J.r_wrist, -1),
  { kind: 'head', parts: [23, 24], o: [0, 1.63, 0.0], axis: [0, 1, 0], len: 0.2, out: [1, 0, 0], fwd: [0, 0, 1], reach: 0 },
];

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const INV_PI = 1 / Math.PI;

/**
 * Chart coordinates of rest-pose point (x, y, z) on coarse part `group` (1..14).
 * Writes U, V to `uv[0]`, `uv[1]` and returns the fine part I (1..24).
 */
export function chartCoords(group: number, x: number, y: number, z: number, uv: Float32Array | Float64Array): number {
  const c = CHARTS[group]!;
  const dx = x - c.o[0], dy = y - c.o[1], dz = z - c.o[2];
  const s = dx * c.axis[0] + dy * c.axis[1] + dz * c.axis[2];
  switch (c.kind) {
    case 'torso': {
      // Angle around the vertical axis, measured from the side seam, over each half.
      const back = dz < 0;
      uv[0] = clamp01((Math.atan2(dx, back ? -dz : dz) + Math.PI / 2) * INV_PI);
      uv[1] = clamp01(1 - s / c.len);
      return c.parts[back ? 0 : 1];
    }
    case 'head': {
      // Azimuthal map centred on each ear: r = angle from the ear axis, around it by angle.
      const l = Math.hypot(dx, dy, dz) || 1;
      const r = clamp01(Math.acos(Math.min(1, Math.abs(dx) / l)) * 2 * INV_PI);
      const phi = Math.atan2(dy, dz);
      uv[0] = clamp01(0.5 + 0.5 * r * Math.cos(phi));
      uv[1] = clamp01(0.5 - 0.5 * r * Math.sin(phi));
      return c.parts[dx < 0 ? 0 : 1];
    }
    case 'cap': {
      // Azimuthal map centred on the tip: a disc with the wrist/ankle ring as its border.
      const qo = dx * c.out[0] + dy * c.out[1] + dz * c.out[2];
      const qf = dx * c.fwd[0] + dy * c.fwd[1] + dz * c.fwd[2];
      const r = clamp01((c.len + c.reach - s) / (c.len + c.reach));
      const l = Math.hypot(qo, qf) || 1;
      uv[0] = 0.5 + 0.5 * r * (qo / l);
      uv[1] = 0.5 + 0.5 * r * (qf / l);
      return c.parts[0];
    }
    default: {
      const qo = dx * c.out[0] + dy * c.out[1] + dz * c.out[2];
      const qf = dx * c.fwd[0] + dy * c.fwd[1] + dz * c.fwd[2];
      uv[1] = clamp01(s / c.len);
      if (c.kind === 'limb-front-back') {
        // Front/back halves; U goes from the outer side seam to the inner one.
        uv[0] = Math.atan2(Math.abs(qf), qo) * INV_PI;
        return c.parts[qf < 0 ? 0 : 1];
      }
      // Inside/outside halves (towards / away from the body); U from the front seam to the back one.
      uv[0] = Math.atan2(Math.abs(qo), -qf) * INV_PI;
      return c.parts[qo < 0 ? 0 : 1];
    }
  }
}
