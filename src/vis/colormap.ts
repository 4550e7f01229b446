// Part colours for DensePose's 24 charts. detectron2 colours part I with OpenCV's PARULA colormap
// at I/24; this is our own table in the same spirit: a blue → teal → green → yellow ramp
// (anchors approximate MATLAB's parula) sampled at I/24, so neighbouring indices stay close in hue
// but the ends of the body (hands, feet, head) read apart.

/** Parula-like anchors: [t, r, g, b], t in [0, 1]. */
const ANCHORS: readonly (readonly [number, number, number, number])[] = [
  [0.0, 53, 42, 135],
  [0.125, 15, 92, 221],
  [0.25, 18, 125, 216],
  [0.375, 7, 156, 207],
  [0.5, 21, 177, 180],
  [0.625, 89, 189, 140],
  [0.75, 165, 190, 107],
  [0.875, 225, 185, 82],
  [1.0, 249, 251, 14],
];

/** Colour of the ramp at `t` in [0, 1] (clamped), as [r, g, b] bytes. */
export function parula(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let k = 1;
  while (k < ANCHORS.length - 1 && ANCHORS[k]![0] < x) k++;
  const a = ANCHORS[k - 1]!;
  const b = ANCHORS[k]!;
  const f = (x - a[0]) / (b[0] - a[0]);
  return [
    Math.round(a[1] + f * (b[1] - a[1])),
    Math.round(a[2] + f * (b[2] - a[2])),
    Math.round(a[3] + f * (b[3] - a[3])),
  ];
}

/** Number of DensePose charts (part indices 1..24; 0 is background). */
export const NUM_PARTS = 24;

/** `[25, 3]` RGB bytes, row I = colour of part I; row 0 (background) is black and never drawn. */
export const PART_COLORS: Uint8Array = (() => {
  const table = new Uint8Array((NUM_PARTS + 1) * 3);
  for (let i = 1; i <= NUM_PARTS; i++) table.set(parula(i / NUM_PARTS), 3 * i);
  return table;
})();

/** Colour of part `i` (1..24) as [r, g, b]. */
export function partColor(i: number): [number, number, number] {
  return [PART_COLORS[3 * i]!, PART_COLORS[3 * i + 1]!, PART_COLORS[3 * i + 2]!];
}
