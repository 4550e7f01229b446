// Names of DensePose's 24 charts for legends: the one table in src/data/parts.ts, without background.
import { FINE_PART_NAMES } from '../data/parts.ts';

/** `PART_NAMES[i - 1]` names part i (1..24). */
export const PART_NAMES: readonly string[] = FINE_PART_NAMES.slice(1);

/** Name of part `i` (1..24); `background` for 0. */
export function partName(i: number): string {
  return FINE_PART_NAMES[i] ?? `part ${i}`;
}
