// The skeleton: 21 joints in metres for a 1.75 m person in an A-pose (arms 30° from the body,
// feet apart), y up, the person facing +z, +x on the person's left. Poses rotate joints about
// world-aligned axes of the rest pose: x pitches (negative raises a hanging limb forward), y
// twists about the vertical, z rolls (positive swings a hanging limb towards +x).

export const JOINT_NAMES = [
  'pelvis', 'spine', 'chest', 'neck', 'head',
  'l_shoulder', 'l_elbow', 'l_wrist', 'l_hand',
  'r_shoulder', 'r_elbow', 'r_wrist', 'r_hand',
  'l_hip', 'l_knee', 'l_ankle', 'l_toe',
  'r_hip', 'r_knee', 'r_ankle', 'r_toe',
] as const;
export type JointName = (typeof JOINT_NAMES)[number];
export const NUM_JOINTS = JOINT_NAMES.length;

export const J = Object.fromEntries(JOINT_NAMES.map((n, i) => [n, i])) as { readonly [K in JointName]: number };

/** Parent joint of each joint (−1: root). */
export const JOINT_PARENT: readonly number[] = [
  -1, 0, 1, 2, 3,
  2, 5, 6, 7,
  2, 9, 10, 11,
  0, 13, 14, 15,
  0, 17, 18, 19,
];

const deg = Math.PI / 180;
const ARM_OUT = 30 * deg;
const UPPER_ARM = 0.28, FOREARM = 0.25, HAND = 0.17;
function armPoint(side: 1 | -1, along: number): [number, number, number] {
  return [side * (0.175 + along * Math.sin(ARM_OUT)), 1.445 - along * Math.cos(ARM_OUT), -0.015];
}

/** Rest positions `[NUM_JOINTS][3]` (metres, 1.75 m tall). */
export const REST_JOINTS: readonly (readonly [number, number, number])[] = [
  [0, 0.95, 0], [0, 1.1, -0.01], [0, 1.3, -0.015], [0, 1.5, -0.02], [0, 1.64, 0],
  armPoint(1, 0), armPoint(1, UPPER_ARM), armPoint(1, UPPER_ARM + FOREARM), armPoint(1, UPPER_ARM + FOREARM + HAND),
  armPoint(-1, 0), armPoint(-1, UPPER_ARM), armPoint(-1, UPPER_ARM + FOREARM), armPoint(-1, UPPER_ARM + FOREARM + HAND),
  [0.095, 0.92, 0], [0.115, 0.5, 0.005], [0.13, 0.085, -0.02], [0.135, 0.025, 0.15],
  [-0.095, 0.92, 0], [-0.115, 0.5, 0.005], [-0.13, 0.085, -0.02], [-0.135, 0.025, 0.15],
];

/** Left/right twin of each joint (itself on the midline), for mirroring poses. */
export const JOINT_MIRROR: readonly number[] = JOINT_NAMES.map((n) => {
  const twin = n.startsWith('l_') ? `r_${n.slice(2)}` : n.startsWith('r_') ? `l_${n.slice(2)}` : n;
  return JOINT_NAMES.indexOf(twin as JointName);
});

/** Anatomical limits in radians `[xmin, xmax, ymin, ymax, zmin, zmax]` per joint, as for the left side (right mirrors y and z). */
const LEFT_LIMITS: Partial<Record<JointName, readonly number[]>> = {
  spine: [-35, 20, -30, 30, -20, 20],
  chest: [-25, 15, -25, 25, -15, 15],
  neck: [-35, 40, -65, 65, -30, 30],
  l_shoulder: [-170, 55, -70, 70, -40, 135],
  l_elbow: [-150, 0, -60, 60, 0, 0],
  l_wrist: [-50, 50, -40, 40, -25, 25],
  l_hip: [-120, 35, -40, 40, -20, 60],
  l_knee: [0, 150, 0, 0, 0, 0],
  l_ankle: [-35, 35, -15, 15, -15, 15],
};

/** `[NUM_JOINTS][6]` joint limits in radians; joints without a rotation have all zeros. */
export const JOINT_LIMITS: readonly (readonly number[])[] = JOINT_NAMES.map((n, j) => {
  const left = LEFT_LIMITS[n];
  if (left) return left.map((v) => v * deg);
  const twin = LEFT_LIMITS[JOINT_NAMES[JOINT_MIRROR[j]!]!];
  if (!twin || !n.startsWith('r_')) return [0, 0, 0, 0, 0, 0];
  const [x0, x1, y0, y1, z0, z1] = twin as [number, number, number, number, number, number];
  return [x0, x1, -y1, -y0, -z1, -z0].map((v) => v * deg);
});

/** COCO's 17 keypoints; face points are rest-pose points carried by the head. */
export const COCO_KEYPOINT_NAMES = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
  'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
  'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
] as const;

/** COCO skeleton edges (1-based keypoint indices), as in the COCO person category. */
export const COCO_SKELETON = [
  [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
  [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
] as const;

/** For each COCO keypoint: the joint it is (or that carries it) and a rest-pose position. */
export const COCO_KEYPOINT_SOURCES: readonly { joint: number; rest: readonly [number, number, number] }[] = [
  { joint: J.neck, rest: [0, 1.635, 0.105] },
  { joint: J.neck, rest: [0.033, 1.665, 0.085] },
  { joint: J.neck, rest: [-0.033, 1.665, 0.085] },
  { joint: J.neck, rest: [0.083, 1.645, 0.0] },
  { joint: J.neck, rest: [-0.083, 1.645, 0.0] },
  ...(['l_shoulder', 'r_shoulder', 'l_elbow', 'r_elbow', 'l_wrist', 'r_wrist', 'l_hip', 'r_hip', 'l_knee', 'r_knee', 'l_ankle', 'r_ankle'] as const)
    .map((n) => ({ joint: J[n], rest: REST_JOINTS[J[n]]! })),
];
