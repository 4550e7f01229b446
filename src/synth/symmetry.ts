// Horizontal-flip symmetry of our charts, in the form of DensePose's UV_symmetry_transforms:
// a part swap (left ↔ right) and, per part, a map of (U, V). Our charts are built
// mirror-consistent (charts.ts), so the map is exact: U ↦ 1 − U on the torso (its angle changes
// sign), identity elsewhere. The tables sample that map on a 256×256 grid the way DensePose's
// `U_transforms`/`V_transforms` do, for code that expects tables.
import { chartCoords, FINE_TO_COARSE } from './charts.ts';

/** Flip symmetry: `partSwap[I]` is the part that I becomes under a horizontal flip (index 0 = background). */
export interface FlipSymmetry {
  /** `[25]` part index after the flip. */
  partSwap: Uint8Array;
  /** `[25]` 1 where U becomes 1 − U, else U stays. */
  mirrorU: Uint8Array;
  /** `[25]` 1 where V becomes 1 − V, else V stays. */
  mirrorV: Uint8Array;
}

const SWAP = [0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23];

export const flipSymmetry: FlipSymmetry = {
  partSwap: Uint8Array.from(SWAP),
  mirrorU: Uint8Array.from(SWAP, (_, i) => (i === 1 || i === 2 ? 1 : 0)),
  mirrorV: new Uint8Array(25),
};

/** (I, U, V) of the mirrored point: writes U', V' to `uv` and returns I'. */
export function flipIUV(I: number, u: number, v: number, uv: Float32Array | Float64Array | number[]): number {
  uv[0] = flipSymmetry.mirrorU[I] ? 1 - u : u;
  uv[1] = flipSymmetry.mirrorV[I] ? 1 - v : v;
  return flipSymmetry.partSwap[I]!;
}

/**
 * DensePose-style tables: for each part I (1..24) `[256,256]` arrays U'·255 and V'·255 of the
 * flipped point, indexed `[round(V·255), round(U·255)]` like `UV_symmetry_transforms.mat`.
 */
export function uvSymmetryTables(): { U: Float32Array[]; V: Float32Array[] } {
  const U: Float32Array[] = [], V: Float32Array[] = [];
  const uv = [0, 0];
  for (let I = 1; I <= 24; I++) {
    const tu = new Float32Array(256 * 256), tv = new Float32Array(256 * 256);
    for (let r = 0; r < 256; r++) for (let c = 0; c < 256; c++) {
      flipIUV(I, c / 255, r / 255, uv);
      tu[r * 256 + c] = uv[0]! * 255; tv[r * 256 + c] = uv[1]! * 255;
    }
    U.push(tu); V.push(tv);
  }
  return { U, V };
}

/** Chart coordinates of the mirror image (−x, y, z) of rest point (x, y, z) on coarse part `group`; used to check the tables. */
export function mirroredChart(group: number, x: number, y: number, z: number, uv: Float32Array): number {
  const twin = [0, 1, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 14][group]!;
  void FINE_TO_COARSE;
  return chartCoords(twin, -x, y, z, uv);
}
