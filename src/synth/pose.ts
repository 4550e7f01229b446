// Poses: per-joint rotations within anatomical limits, named key poses, random poses around them,
// blends, forward kinematics, and a capsule test that rejects self-intersecting poses.
import { DensePoseError, unknownValue } from '../errors.ts';
import { J, JOINT_LIMITS, JOINT_MIRROR, JOINT_NAMES, JOINT_PARENT, NUM_JOINTS, REST_JOINTS } from './skeleton.ts';
import type { JointName } from './skeleton.ts';
import type { Rng } from './rng.ts';

/** `[NUM_JOINTS, 3]` rotation angles (radians) per joint about the rest frame's x, y, z (applied y, then x, then z). */
export type Pose = Float64Array;

/** Whole-body orientation applied before placing a person: `lying` lays the body on its back or side. */
export interface PoseSample {
  pose: Pose;
  /** Key pose it came from. */
  name: KeyPoseName;
  /** Body lies on the ground (the scene rotates it onto its back or side). */
  lying: boolean;
}

export const KEY_POSE_NAMES = ['standing', 'walking', 'running', 'sitting', 'crouching', 'arms_raised', 'reaching', 'lying', 't_pose', 'waving'] as const;
export type KeyPoseName = (typeof KEY_POSE_NAMES)[number];

/** Pose sets a data set can draw from. */
export const POSE_SETS = ['all', 'upright', 'standing'] as const;
export type PoseSet = (typeof POSE_SETS)[number];
const SET_MEMBERS: Record<PoseSet, readonly KeyPoseName[]> = {
  all: KEY_POSE_NAMES,
  upright: ['standing', 'walking', 'running', 'arms_raised', 'reaching', 't_pose', 'waving'],
  standing: ['standing'],
};

type Angles = Partial<Record<JointName, [number, number, number]>>;
/** Key poses in degrees; `l_*` entries are mirrored to the right unless the right is given. */
const KEY: Record<KeyPoseName, Angles> = {
  standing: { l_shoulder: [0, 0, -22], l_elbow: [-10, 0, 0] },
  walking: { l_shoulder: [25, 0, -24], r_shoulder: [-25, 0, 24], l_elbow: [-15, 0, 0], r_elbow: [-30, 0, 0], l_hip: [-25, 0, -4], r_hip: [18, 0, 4], l_knee: [10, 0, 0], r_knee: [30, 0, 0], l_ankle: [10, 0, 0], r_ankle: [-10, 0, 0] },
  running: { spine: [-12, 0, 0], l_shoulder: [45, 0, -18], r_shoulder: [-55, 0, 18], l_elbow: [-90, 0, 0], r_elbow: [-95, 0, 0], l_hip: [-65, 0, -5], r_hip: [25, 0, 5], l_knee: [85, 0, 0], r_knee: [50, 0, 0], r_ankle: [20, 0, 0] },
  sitting: { spine: [-8, 0, 0], l_shoulder: [-35, 0, -18], l_elbow: [-40, 0, 0], l_hip: [-85, 0, 8], l_knee: [100, 0, 0], l_ankle: [5, 0, 0] },
  crouching: { spine: [-30, 0, 0], chest: [-10, 0, 0], neck: [25, 0, 0], l_shoulder: [-45, 0, -15], l_elbow: [-60, 0, 0], l_hip: [-115, 0, 12], l_knee: [140, 0, 0], l_ankle: [-25, 0, 0] },
  arms_raised: { l_shoulder: [0, 0, 125], l_elbow: [-10, 0, 0] },
  reaching: { spine: [-10, 0, 0], chest: [0, 15, 0], l_shoulder: [-95, 0, -20], l_elbow: [-5, 0, 0], r_shoulder: [10, 0, 20], r_elbow: [-20, 0, 0], l_hip: [-10, 0, 0], r_hip: [15, 0, 0], r_knee: [15, 0, 0] },
  lying: { l_shoulder: [0, 0, -10], l_elbow: [-15, 0, 0], l_hip: [0, 0, 3] },
  t_pose: { l_shoulder: [0, 0, 60] },
  waving: { l_shoulder: [-20, 0, 95], l_elbow: [-100, 0, 0], r_shoulder: [0, 0, 22], r_elbow: [-10, 0, 0] },
};

const DEG = Math.PI / 180;

function keyPose(name: KeyPoseName): Pose {
  const pose = new Float64Array(NUM_JOINTS * 3);
  const a = KEY[name];
  for (const [n, v] of Object.entries(a) as [JointName, [number, number, number]][]) {
    const j = J[n];
    pose.set([v[0] * DEG, v[1] * DEG, v[2] * DEG], 3 * j);
    const m = JOINT_MIRROR[j]!;
    if (m !== j && a[JOINT_NAMES[m]!] === undefined) pose.set([v[0] * DEG, -v[1] * DEG, -v[2] * DEG], 3 * m);
  }
  return clampPose(pose);
}

/** The named key pose (joint limits applied). */
export function getKeyPose(name: string): Pose {
  if (!(KEY_POSE_NAMES as readonly string[]).includes(name)) throw unknownValue('key pose', name, KEY_POSE_NAMES);
  return keyPose(name as KeyPoseName);
}

/** Clamp every joint to its limits, in place. */
export function clampPose(pose: Pose): Pose {
  for (let j = 0; j < NUM_JOINTS; j++) {
    const l = JOINT_LIMITS[j]!;
    for (let a = 0; a < 3; a++) {
      const v = pose[3 * j + a]!;
      pose[3 * j + a] = v < l[2 * a]! ? l[2 * a]! : v > l[2 * a + 1]! ? l[2 * a + 1]! : v;
    }
  }
  return pose;
}

/** Mirror a pose left↔right. */
export function mirrorPose(pose: Pose): Pose {
  const out = new Float64Array(pose.length);
  for (let j = 0; j < NUM_JOINTS; j++) {
    const m = JOINT_MIRROR[j]!;
    out[3 * m] = pose[3 * j]!;
    out[3 * m + 1] = -pose[3 * j + 1]!;
    out[3 * m + 2] = -pose[3 * j + 2]!;
  }
  return out;
}

/** Linear blend of two poses (then clamped). */
export function blendPoses(a: Pose, b: Pose, t: number): Pose {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * t;
  return clampPose(out);
}

/** Options of {@link samplePose}. */
export interface SamplePoseOptions {
  /** Which key poses to start from. @default 'all' */
  poseSet?: PoseSet;
  /** Random spread around the key pose, as a fraction of each joint's range. @default 0.12 */
  jitter?: number;
  /** Probability of blending with a second key pose of the set. @default 0.3 */
  blendProbability?: number;
}

export function validatePoseSet(name: string): PoseSet {
  if (!(POSE_SETS as readonly string[]).includes(name)) throw unknownValue('pose set', name, POSE_SETS);
  return name as PoseSet;
}

/** A random, self-intersection-free pose: a key pose, maybe blended with another, mirrored half the time, jittered within limits. */
export function samplePose(rng: Rng, options: SamplePoseOptions = {}): PoseSample {
  const set = SET_MEMBERS[validatePoseSet(options.poseSet ?? 'all')];
  const jitter = options.jitter ?? 0.12;
  for (let attempt = 0; ; attempt++) {
    const name = rng.pick(set);
    let pose = keyPose(name);
    if (name !== 'lying' && rng.chance(options.blendProbability ?? 0.3)) {
      const other = rng.pick(set.filter((n) => n !== 'lying'));
      pose = blendPoses(pose, keyPose(other), rng.range(0.2, 0.6));
    }
    if (rng.chance(0.5)) pose = mirrorPose(pose);
    const j = attempt < 20 ? jitter : 0;
    for (let k = 0; k < NUM_JOINTS; k++) {
      const l = JOINT_LIMITS[k]!;
      for (let a = 0; a < 3; a++) pose[3 * k + a]! += rng.normal() * j * (l[2 * a + 1]! - l[2 * a]!);
    }
    clampPose(pose);
    if (!selfIntersects(pose) || attempt >= 40) return { pose, name, lying: name === 'lying' };
  }
}

/** Rotation matrix (row-major 3×3) Rz·Rx·Ry. */
export function eulerToMatrix(x: number, y: number, z: number, out: Float64Array = new Float64Array(9), o = 0): Float64Array {
  const cx = Math.cos(x), sx = Math.sin(x), cy = Math.cos(y), sy = Math.sin(y), cz = Math.cos(z), sz = Math.sin(z);
  // Rx·Ry
  const a00 = cy, a01 = 0, a02 = sy;
  const a10 = sx * sy, a11 = cx, a12 = -sx * cy;
  const a20 = -cx * sy, a21 = sx, a22 = cx * cy;
  out[o] = cz * a00 - sz * a10; out[o + 1] = cz * a01 - sz * a11; out[o + 2] = cz * a02 - sz * a12;
  out[o + 3] = sz * a00 + cz * a10; out[o + 4] = sz * a01 + cz * a11; out[o + 5] = sz * a02 + cz * a12;
  out[o + 6] = a20; out[o + 7] = a21; out[o + 8] = a22;
  return out;
}

/**
 * Forward kinematics. Returns `[NUM_JOINTS, 12]` affine transforms (row-major 3×3 rotation then
 * translation) mapping rest-pose points of each joint's bone to posed positions, for a skeleton
 * scaled by `scale` about the origin.
 */
export function forwardKinematics(pose: Pose, scale = 1): Float64Array {
  const T = new Float64Array(NUM_JOINTS * 12);
  const R = new Float64Array(9);
  const pos = new Float64Array(NUM_JOINTS * 3);
  for (let j = 0; j < NUM_JOINTS; j++) {
    eulerToMatrix(pose[3 * j]!, pose[3 * j + 1]!, pose[3 * j + 2]!, R);
    const p = JOINT_PARENT[j]!;
    const r = REST_JOINTS[j]!;
    const o = 12 * j;
    if (p < 0) {
      T.set(R, o);
      pos.set([r[0] * scale, r[1] * scale, r[2] * scale], 3 * j);
    } else {
      const po = 12 * p, rp = REST_JOINTS[p]!;
      // global rotation = parent's · local
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        T[o + 3 * a + b] = T[po + 3 * a]! * R[b]! + T[po + 3 * a + 1]! * R[3 + b]! + T[po + 3 * a + 2]! * R[6 + b]!;
      }
      const dx = (r[0] - rp[0]) * scale, dy = (r[1] - rp[1]) * scale, dz = (r[2] - rp[2]) * scale;
      for (let a = 0; a < 3; a++) pos[3 * j + a] = pos[3 * p + a]! + T[po + 3 * a]! * dx + T[po + 3 * a + 1]! * dy + T[po + 3 * a + 2]! * dz;
    }
    // translation so that x ↦ Rg·(x − rest_j) + posed_j
    for (let a = 0; a < 3; a++) {
      T[o + 9 + a] = pos[3 * j + a]! - (T[o + 3 * a]! * r[0] + T[o + 3 * a + 1]! * r[1] + T[o + 3 * a + 2]! * r[2]) * scale;
    }
  }
  return T;
}

/** Posed joint positions `[NUM_JOINTS, 3]` from {@link forwardKinematics}'s transforms. */
export function posedJoints(T: Float64Array, scale = 1): Float64Array {
  const out = new Float64Array(NUM_JOINTS * 3);
  for (let j = 0; j < NUM_JOINTS; j++) applyTransform(T, j, REST_JOINTS[j]![0] * scale, REST_JOINTS[j]![1] * scale, REST_JOINTS[j]![2] * scale, out, 3 * j);
  return out;
}

export function applyTransform(T: Float64Array, j: number, x: number, y: number, z: number, out: Float64Array | Float32Array, o: number): void {
  const b = 12 * j;
  out[o] = T[b]! * x + T[b + 1]! * y + T[b + 2]! * z + T[b + 9]!;
  out[o + 1] = T[b + 3]! * x + T[b + 4]! * y + T[b + 5]! * z + T[b + 10]!;
  out[o + 2] = T[b + 6]! * x + T[b + 7]! * y + T[b + 8]! * z + T[b + 11]!;
}

/** Capsules (joint a, joint b, radius) for the self-intersection test. */
const CAPSULES: readonly [number, number, number][] = [
  [J.pelvis, J.neck, 0.12], [J.neck, J.head, 0.09],
  [J.l_shoulder, J.l_elbow, 0.045], [J.l_elbow, J.l_wrist, 0.035], [J.l_wrist, J.l_hand, 0.035],
  [J.r_shoulder, J.r_elbow, 0.045], [J.r_elbow, J.r_wrist, 0.035], [J.r_wrist, J.r_hand, 0.035],
  [J.l_hip, J.l_knee, 0.07], [J.l_knee, J.l_ankle, 0.045], [J.l_ankle, J.l_toe, 0.035],
  [J.r_hip, J.r_knee, 0.07], [J.r_knee, J.r_ankle, 0.045], [J.r_ankle, J.r_toe, 0.035],
];

function segmentDistance(p: Float64Array, a0: number, a1: number, b0: number, b1: number): number {
  const d1 = [p[3 * a1]! - p[3 * a0]!, p[3 * a1 + 1]! - p[3 * a0 + 1]!, p[3 * a1 + 2]! - p[3 * a0 + 2]!];
  const d2 = [p[3 * b1]! - p[3 * b0]!, p[3 * b1 + 1]! - p[3 * b0 + 1]!, p[3 * b1 + 2]! - p[3 * b0 + 2]!];
  const r = [p[3 * a0]! - p[3 * b0]!, p[3 * a0 + 1]! - p[3 * b0 + 1]!, p[3 * a0 + 2]! - p[3 * b0 + 2]!];
  const dt = (u: number[], v: number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  const a = dt(d1, d1), e = dt(d2, d2), f = dt(d2, r), c = dt(d1, r), b = dt(d1, d2);
  const den = a * e - b * b;
  let s = den > 1e-12 ? Math.min(1, Math.max(0, (b * f - c * e) / den)) : 0;
  let t = (b * s + f) / e;
  if (t < 0) { t = 0; s = Math.min(1, Math.max(0, -c / a)); } else if (t > 1) { t = 1; s = Math.min(1, Math.max(0, (b - c) / a)); }
  let d2s = 0;
  for (let k = 0; k < 3; k++) { const v = r[k]! + d1[k]! * s - d2[k]! * t; d2s += v * v; }
  return Math.sqrt(d2s);
}

/** Whether two non-adjacent body capsules overlap by more than a fifth of their radii in this pose. */
export function selfIntersects(pose: Pose): boolean {
  const p = posedJoints(forwardKinematics(pose));
  for (let i = 0; i < CAPSULES.length; i++) for (let k = i + 1; k < CAPSULES.length; k++) {
    const [a0, a1, ra] = CAPSULES[i]!, [b0, b1, rb] = CAPSULES[k]!;
    if (a0 === b0 || a0 === b1 || a1 === b0 || a1 === b1) continue;
    // limbs attached to the torso capsule at its middle (shoulders, hips) are neighbours too
    if (i === 0 && (b0 === J.l_shoulder || b0 === J.r_shoulder || b0 === J.l_hip || b0 === J.r_hip)) continue;
    if (k === 8 && i === 11) continue;
    if ((i === 8 && k === 11)) continue;
    if (segmentDistance(p, a0, a1, b0, b1) < 0.8 * (ra + rb)) return true;
  }
  return false;
}

export function assertPose(pose: Pose, where: string): void {
  if (pose.length !== NUM_JOINTS * 3) throw new DensePoseError('SHAPE_MISMATCH', `pose has ${pose.length} angles, expected ${NUM_JOINTS * 3} (${NUM_JOINTS} joints × 3)`, { where });
}
