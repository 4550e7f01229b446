// Names of DensePose's 24 fine parts (DESIGN.md §1), 1-based as `dp_I`; index 0 is background.
export const FINE_PART_NAMES = [
  'background',
  'torso back', 'torso front', 'right hand', 'left hand', 'left foot', 'right foot',
  'upper leg R back', 'upper leg L back', 'upper leg R front', 'upper leg L front',
  'lower leg R back', 'lower leg L back', 'lower leg R front', 'lower leg L front',
  'upper arm L inside', 'upper arm R inside', 'upper arm L outside', 'upper arm R outside',
  'lower arm L inside', 'lower arm R inside', 'lower arm L outside', 'lower arm R outside',
  'head right', 'head left',
] as const;
