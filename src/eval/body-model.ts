// The evaluation body model: the surface DensePose points are scored on. Each vertex of the
// (subdivided) mesh carries its part (1..24) and chart coordinates (U, V); geodesic distances
// between vertices turn a (GT point, predicted point) pair into metres.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { DensePoseError } from '../errors.ts';
import { readPickle } from '../runtime/checkpoint/pickle.ts';
import type { NdArray } from '../runtime/checkpoint/ndarray.ts';
import { matToFloat64, matVariable, readMat } from './mat.ts';

/** What the DensePose evaluator needs of a body surface. */
export interface BodyModel {
  /** Where it came from, for messages. */
  readonly name: string;
  /** Vertices of the evaluation mesh. */
  readonly numVertices: number;
  /** `[numVertices]` part index 1..24 per vertex (0: on no chart). */
  readonly vertexPart: Uint8Array;
  /** `[numVertices]` chart coordinate U in [0,1]. */
  readonly vertexU: Float64Array;
  /** `[numVertices]` chart coordinate V in [0,1]. */
  readonly vertexV: Float64Array;
  /** Geodesic distance in metres between vertices `i` and `j` (0-based); 0 when i = j. */
  geodesic(i: number, j: number): number;
}

/** File names of the official DensePose evaluation data (detectron2 downloads them from dl.fbaipublicfiles.com/densepose/data/). */
export const SMPL_FILES = { subdiv: 'SMPL_subdiv.mat', transform: 'SMPL_SUBDIV_TRANSFORM.mat', pdist: 'Pdist_matrix.pkl' } as const;

/** How a condensed distance vector is laid out. */
export const PDIST_ORDERS = ['row-major', 'lower-row-major'] as const;
export type PdistOrder = (typeof PDIST_ORDERS)[number];

/**
 * Position of the distance between distance-matrix rows `a` ≠ `b` (0-based) in a condensed
 * vector over `n` rows. 'row-major' is scipy's `pdist` / MATLAB's order, k = n·lo − lo(lo+1)/2 +
 * hi − lo − 1; it is what the detectron2 goldens in ../shared/fixtures were scored with.
 * 'lower-row-major' (k = hi(hi−1)/2 + lo) is what detectron2's `getDistancesUV` formula computes
 * when read literally; kept as an option for files written in that order.
 */
export function condensedIndex(a: number, b: number, n: number, order: PdistOrder = 'row-major'): number {
  const lo = a < b ? a : b, hi = a < b ? b : a;
  return order === 'row-major' ? n * lo - (lo * (lo + 1)) / 2 + hi - lo - 1 : (hi * (hi - 1)) / 2 + lo;
}

/** `n` with n(n−1)/2 = length, or an error naming the file. */
export function pointsFromCondensedLength(length: number, where: string): number {
  const n = Math.round((1 + Math.sqrt(1 + 8 * length)) / 2);
  if ((n * (n - 1)) / 2 !== length) {
    throw new DensePoseError('SHAPE_MISMATCH', `distance vector of length ${length} is not n(n−1)/2 for any n`, { where });
  }
  return n;
}

/** Arrays that make a {@link BodyModel}. */
export interface BodyModelArrays {
  name: string;
  vertexPart: Uint8Array;
  vertexU: Float64Array;
  vertexV: Float64Array;
  /** `[numVertices]` 0-based row of each vertex in the distance matrix (several vertices may share one). */
  distanceRow: Int32Array;
  /** Condensed distances over `n` rows, read with {@link condensedIndex}. */
  condensed: Float32Array | Float64Array;
  /** @default 'row-major' */
  order?: PdistOrder;
}

/** A body model over a condensed distance vector (the official files' layout). */
export function bodyModelFromArrays(arrays: BodyModelArrays): BodyModel {
  const { name, vertexPart, vertexU, vertexV, distanceRow, condensed } = arrays;
  const order = arrays.order ?? 'row-major';
  const nv = vertexPart.length;
  if (vertexU.length !== nv || vertexV.length !== nv || distanceRow.length !== nv) {
    throw new DensePoseError('SHAPE_MISMATCH', `vertex arrays differ in length: part ${nv}, U ${vertexU.length}, V ${vertexV.length}, distance rows ${distanceRow.length}`, { where: name });
  }
  const n = pointsFromCondensedLength(condensed.length, name);
  for (let i = 0; i < nv; i++) {
    const r = distanceRow[i]!;
    if (!(r >= 0 && r < n)) throw new DensePoseError('BAD_INPUT', `vertex ${i} maps to distance row ${r}, expected 0..${n - 1}`, { where: name });
    const p = vertexPart[i]!;
    if (p > 24) throw new DensePoseError('BAD_INPUT', `vertex ${i} has part ${p}, expected 0..24`, { where: name });
  }
  return {
    name,
    numVertices: nv,
    vertexPart,
    vertexU,
    vertexV,
    geodesic(i: number, j: number): number {
      const a = distanceRow[i]!, b = distanceRow[j]!;
      return a === b ? 0 : condensed[condensedIndex(a, b, n, order)]!;
    },
  };
}

function integerColumn(data: Float64Array, what: string, where: string): Float64Array {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isInteger(data[i]!)) throw new DensePoseError('BAD_FILE', `${what}[${i}] = ${data[i]} is not an integer`, { where });
  }
  return data;
}

/** Options of {@link loadSmplBodyModel}. */
export interface LoadSmplBodyModelOptions {
  /** Override file paths; relative names resolve in `dir`. @default SMPL_FILES */
  files?: Partial<Record<keyof typeof SMPL_FILES, string>>;
  /** Layout of Pdist_matrix. @default 'row-major' */
  pdistOrder?: PdistOrder;
}

/**
 * Load the official evaluation body (or any body written in its formats, such as our synthetic
 * body): `SMPL_subdiv.mat` (Part_ID_subdiv, U_subdiv, V_subdiv), `SMPL_SUBDIV_TRANSFORM.mat`
 * (index: 1-based distance row per vertex) and `Pdist_matrix.pkl` (`{"Pdist_matrix": float32 [L,1]}`,
 * L = n(n−1)/2; detectron2 hard-codes n = 27554, we recover n from L).
 */
export function loadSmplBodyModel(dir: string, options: LoadSmplBodyModelOptions = {}): BodyModel {
  const path = (k: keyof typeof SMPL_FILES) => join(dir, options.files?.[k] ?? SMPL_FILES[k]);
  for (const k of Object.keys(SMPL_FILES) as (keyof typeof SMPL_FILES)[]) {
    if (!existsSync(path(k))) {
      throw new DensePoseError('NOT_FOUND', `body model file missing: ${path(k)}. The directory needs ${Object.values(SMPL_FILES).join(', ')}`, { where: dir });
    }
  }
  const subdivPath = path('subdiv');
  const subdiv = readMat(subdivPath);
  const part = integerColumn(matToFloat64(matVariable(subdiv, 'Part_ID_subdiv')), 'Part_ID_subdiv', subdivPath);
  const u = matToFloat64(matVariable(subdiv, 'U_subdiv'));
  const v = matToFloat64(matVariable(subdiv, 'V_subdiv'));
  if (u.length !== part.length || v.length !== part.length) {
    throw new DensePoseError('SHAPE_MISMATCH', `Part_ID_subdiv has ${part.length} vertices, U_subdiv ${u.length}, V_subdiv ${v.length}`, { where: subdivPath });
  }
  const transformPath = path('transform');
  const index = integerColumn(matToFloat64(matVariable(readMat(transformPath), 'index')), 'index', transformPath);
  if (index.length !== part.length) {
    throw new DensePoseError('SHAPE_MISMATCH', `index has ${index.length} entries, ${subdivPath} has ${part.length} vertices`, { where: transformPath });
  }
  const pdistPath = path('pdist');
  const root = readPickle(pdistPath);
  const arr = root instanceof Map ? (root.get('Pdist_matrix') as NdArray | undefined) : undefined;
  if (!arr || !ArrayBuffer.isView(arr.data)) {
    throw new DensePoseError('MISSING_KEY', 'expected a dict with a numpy array "Pdist_matrix"', { where: pdistPath });
  }
  if (!(arr.data instanceof Float32Array || arr.data instanceof Float64Array)) {
    throw new DensePoseError('BAD_FILE', `"Pdist_matrix" has dtype ${arr.dtype}, expected float32 or float64`, { where: pdistPath });
  }
  const distanceRow = new Int32Array(index.length);
  for (let i = 0; i < index.length; i++) {
    // 1-based in the file; 0 would wrap to the last row in numpy, which is never meant.
    if (index[i]! < 1) throw new DensePoseError('BAD_FILE', `index[${i}] = ${index[i]}, expected a 1-based row number`, { where: transformPath });
    distanceRow[i] = index[i]! - 1;
  }
  return bodyModelFromArrays({
    name: dir,
    vertexPart: Uint8Array.from(part),
    vertexU: u,
    vertexV: v,
    distanceRow,
    condensed: arr.data,
    order: options.pdistOrder ?? 'row-major',
  });
}
