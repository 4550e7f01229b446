// Names of DensePose's 24 charts (DESIGN.md §1), in part-index order, for legends and reports.
// "left"/"right" are the person's own sides, as in the COCO-DensePose annotations.

/** `PART_NAMES[i - 1]` names part i (1..24). */
export const PART_NAMES = [
  'torso back',
  'torso front',
  'right hand',
  'left hand',
  'left foot',
  'right foot',
  'upper leg right back',
  'upper leg left back',
  'upper leg right front',
  'upper leg left front',
  'lower leg right back',
  'lower leg left back',
  'lower leg right front',
  'lower leg left front',
  'upper arm left inside',
  'upper arm right inside',
  'upper arm left outside',
  'upper arm right outside',
  'lower arm left inside',
  'lower arm right inside',
  'lower arm left outside',
  'lower arm right outside',
  'head right',
  'head left',
] as const;

/** Name of part `i` (1..24); `background` for 0. */
export function partName(i: number): string {
  return i === 0 ? 'background' : (PART_NAMES[i - 1] ?? `part ${i}`);
}
