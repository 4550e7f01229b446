import { flipSymmetry as synthFlip } from '../synth/symmetry.ts';
import type { FlipSymmetry } from './sample.ts';

/** Coarse parts (DESIGN §1) under a mirror: hands, feet, legs and arms swap sides; torso and head stay. */
export const COARSE_SWAP = Uint8Array.of(0, 1, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 14);

/** The synthetic body's mirror table in the form the trainer uses. */
export const synthFlipSymmetry: FlipSymmetry = {
  flipPoint(i: number, u: number, v: number): [number, number, number] {
    return [synthFlip.partSwap[i]!, synthFlip.mirrorU[i] ? 1 - u : u, synthFlip.mirrorV[i] ? 1 - v : v];
  },
  coarseSwap: COARSE_SWAP,
};
