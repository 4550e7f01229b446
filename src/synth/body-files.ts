// The evaluation body of the synthetic data, written in the official DensePose formats
// (SMPL_subdiv.mat, SMPL_SUBDIV_TRANSFORM.mat, Pdist_matrix.pkl, through data/body-files.ts) so
// the evaluator reads it like the SMPL files, plus synth-body.json + synth-body.bin for
// readSynthBodyModel. Vertices: the rest-pose template, one entry per (vertex, part it borders)
// with that chart's (I, U, V); geodesics: Steiner-graph Dijkstra between `rows` well-spread
// vertices, every entry mapped to its geodesically nearest row (the official index transform).
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { ensureDir, tempPathFor, writeFileAtomicSync } from '../io.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBodyModelFiles } from '../data/body-files.ts';
import { DensePoseError, ioError } from '../errors.ts';
import { bodyTemplate } from './body.ts';
import { chartCoords } from './charts.ts';
import { buildSteinerGraph, Dijkstra } from './geodesic.ts';

/** Options of {@link writeBodyModel}. */
export interface WriteBodyModelOptions {
  /** Distance-matrix rows (farthest-point samples of the mesh). @default 1000 */
  rows?: number;
  /** Grid spacing of the evaluation mesh (metres). @default 0.024 */
  spacing?: number;
  /** Steiner points per edge. @default 2 */
  pointsPerEdge?: number;
}

/** The synthetic evaluation body as arrays. */
export interface SynthBodyModel {
  /** `[n]` fine part 1..24 per entry. */
  vertexPart: Uint8Array;
  vertexU: Float32Array;
  vertexV: Float32Array;
  /** `[n,3]` rest-pose positions (metres). */
  positions: Float32Array;
  /** `[n]` 0-based distance row of each entry. */
  distanceRow: Int32Array;
  /** Number of rows. */
  numRows: number;
  /** Condensed row-major upper triangle over rows (scipy `pdist` order). */
  condensed: Float32Array;
  /** Geodesic distance in metres between entries i and j. */
  distance(i: number, j: number): number;
}

interface BodyArrays { vertexPart: Uint8Array; vertexU: Float32Array; vertexV: Float32Array; positions: Float32Array; distanceRow: Int32Array; numRows: number; condensed: Float32Array }

function withDistance(a: BodyArrays): SynthBodyModel {
  const n = a.numRows;
  return {
    ...a,
    distance(i: number, j: number): number {
      const r = a.distanceRow[i]!, s = a.distanceRow[j]!;
      if (r === s) return 0;
      const lo = r < s ? r : s, hi = r < s ? s : r;
      return a.condensed[n * lo - (lo * (lo + 1)) / 2 + hi - lo - 1]!;
    },
  };
}

/** Compute the evaluation body (takes seconds: one Dijkstra per row). */
export function computeBodyModel(options: WriteBodyModelOptions = {}): SynthBodyModel {
  const tpl = bodyTemplate({ spacing: options.spacing ?? 0.024 });
  const V = tpl.numVertices;
  const rows = Math.min(options.rows ?? 1000, V);
  const graph = buildSteinerGraph(tpl.positions, tpl.triangles, { pointsPerEdge: options.pointsPerEdge ?? 2 });
  const dj = new Dijkstra(graph);
  // farthest-point sampling (Euclidean, cheap): rows spread evenly over the surface
  const seeds: number[] = [0];
  const nearest = new Float64Array(V).fill(Infinity);
  const P = tpl.positions;
  while (seeds.length < rows) {
    const s = seeds[seeds.length - 1]!;
    let far = 0;
    for (let v = 0; v < V; v++) {
      const d = (P[3 * v]! - P[3 * s]!) ** 2 + (P[3 * v + 1]! - P[3 * s + 1]!) ** 2 + (P[3 * v + 2]! - P[3 * s + 2]!) ** 2;
      if (d < nearest[v]!) nearest[v] = d;
      if (nearest[v]! > nearest[far]!) far = v;
    }
    seeds.push(far);
  }
  // each vertex takes the row of its geodesically nearest seed
  dj.run(seeds);
  const vertexRow = dj.label.slice(0, V);
  // one entry per (vertex, part group among its triangles)
  const groupsOf: number[][] = Array.from({ length: V }, () => []);
  for (let t = 0; t < tpl.numTriangles; t++) {
    const g = tpl.triGroup[t]!;
    for (let e = 0; e < 3; e++) {
      const list = groupsOf[tpl.triangles[3 * t + e]!]!;
      if (!list.includes(g)) list.push(g);
    }
  }
  const part: number[] = [], U: number[] = [], Vv: number[] = [], pos: number[] = [], row: number[] = [];
  const uv = new Float32Array(2);
  for (let v = 0; v < V; v++) {
    const x = tpl.positions[3 * v]!, y = tpl.positions[3 * v + 1]!, z = tpl.positions[3 * v + 2]!;
    for (const g of groupsOf[v]!.sort((a, b) => a - b)) {
      part.push(chartCoords(g, x, y, z, uv));
      U.push(uv[0]!); Vv.push(uv[1]!); pos.push(x, y, z); row.push(vertexRow[v]!);
    }
  }
  const condensed = new Float32Array((rows * (rows - 1)) / 2);
  for (let i = 0; i < rows - 1; i++) {
    // rows after i are all that is stored; stop once they are settled
    const d = dj.run([seeds[i]!], seeds.slice(i + 1));
    const base = rows * i - (i * (i + 1)) / 2 - i - 1;
    for (let j = i + 1; j < rows; j++) condensed[base + j] = d[seeds[j]!]!;
  }
  return withDistance({
    vertexPart: Uint8Array.from(part), vertexU: Float32Array.from(U), vertexV: Float32Array.from(Vv), positions: Float32Array.from(pos),
    distanceRow: Int32Array.from(row), numRows: rows, condensed,
  });
}

const JSON_NAME = 'synth-body.json', BIN_NAME = 'synth-body.bin';

const FILES = ['SMPL_subdiv.mat', 'SMPL_SUBDIV_TRANSFORM.mat', 'Pdist_matrix.pkl', JSON_NAME, BIN_NAME];

/** Cache folder for a body (computing one takes seconds); keyed by the options and the template's geometry. */
function cacheDir(options: WriteBodyModelOptions): string {
  const tpl = bodyTemplate({ spacing: options.spacing ?? 0.024 });
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, rows: options.rows ?? 1000, spacing: options.spacing ?? 0.024, ppe: options.pointsPerEdge ?? 2 }));
  h.update(new Uint8Array(tpl.positions.buffer, tpl.positions.byteOffset, tpl.positions.byteLength));
  h.update(new Uint8Array(tpl.triGroup.buffer, tpl.triGroup.byteOffset, tpl.triGroup.byteLength));
  return join(tmpdir(), `densepose-ts-synth-body-${h.digest('hex').slice(0, 16)}`);
}

/** Copy through a temporary name and a rename: a kill never leaves half a file under the real name. */
function copyFileAtomic(from: string, to: string): void {
  const tmp = tempPathFor(to);
  try {
    copyFileSync(from, tmp);
    renameSync(tmp, to);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // keep the copy error
    }
    throw ioError(e, to, 'write');
  }
}

/**
 * Write the evaluation body to `dir` in the official formats and in synth-body.json/.bin.
 * The result is cached in the OS temp folder, so later data sets copy it instead of recomputing.
 */
export function writeBodyModel(dir: string, options: WriteBodyModelOptions = {}): SynthBodyModel {
  const cache = cacheDir(options);
  if (FILES.every((f) => existsSync(join(cache, f)))) {
    ensureDir(dir);
    for (const f of FILES) copyFileAtomic(join(cache, f), join(dir, f));
    return readSynthBodyModel(dir);
  }
  const body = writeBodyModelUncached(dir, options);
  try {
    // written under a unique name then renamed, so parallel writers never see half a cache
    const tmp = `${cache}.${process.pid}.${Date.now()}`;
    mkdirSync(tmp, { recursive: true });
    for (const f of FILES) copyFileSync(join(dir, f), join(tmp, f));
    renameSync(tmp, cache);
  } catch {
    // the cache is an optimisation only
  }
  return body;
}

function writeBodyModelUncached(dir: string, options: WriteBodyModelOptions): SynthBodyModel {
  const body = computeBodyModel(options);
  const n = body.vertexPart.length;
  writeBodyModelFiles(dir, {
    vertexPart: body.vertexPart, vertexU: Float64Array.from(body.vertexU), vertexV: Float64Array.from(body.vertexV), positions: body.positions,
    distanceRow: body.distanceRow, numRows: body.numRows,
    distance: (a, b) => body.condensed[body.numRows * a - (a * (a + 1)) / 2 + b - a - 1]!,
  });
  const parts = [body.vertexPart, body.vertexU, body.vertexV, body.positions, body.distanceRow, body.condensed];
  const layout: Record<string, { offset: number; length: number; dtype: string }> = {};
  let offset = 0;
  const names = ['vertexPart', 'vertexU', 'vertexV', 'positions', 'distanceRow', 'condensed'];
  parts.forEach((p, i) => {
    offset = Math.ceil(offset / 4) * 4;
    layout[names[i]!] = { offset, length: p.length, dtype: p.constructor.name };
    offset += p.byteLength;
  });
  const bin = new Uint8Array(offset);
  parts.forEach((p, i) => bin.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), layout[names[i]!]!.offset));
  writeFileAtomicSync(join(dir, BIN_NAME), [bin]);
  writeFileAtomicSync(join(dir, JSON_NAME), [Buffer.from(JSON.stringify({ format: 'densepose-ts synth body 1', numEntries: n, numRows: body.numRows, units: 'metres', condensedOrder: 'row-major upper triangle', arrays: layout }, null, 1))]);
  return body;
}

/** Read what {@link writeBodyModel} wrote. */
export function readSynthBodyModel(dir: string): SynthBodyModel {
  const jp = join(dir, JSON_NAME), bp = join(dir, BIN_NAME);
  if (!existsSync(jp) || !existsSync(bp)) throw new DensePoseError('NOT_FOUND', `no synthetic body here: needs ${JSON_NAME} and ${BIN_NAME} (written by "densepose synth")`, { where: dir });
  const meta = JSON.parse(readFileSync(jp, 'utf8')) as { numRows: number; arrays: Record<string, { offset: number; length: number; dtype: string }> };
  const buf = readFileSync(bp);
  const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const ctors = { Uint8Array, Float32Array, Int32Array } as const;
  const get = <K extends keyof typeof ctors>(name: string, dtype: K): InstanceType<(typeof ctors)[K]> => {
    const a = meta.arrays[name];
    if (!a || a.dtype !== dtype) throw new DensePoseError('BAD_FILE', `array "${name}" missing or not ${dtype}`, { where: jp });
    const C = ctors[dtype];
    if (a.offset + a.length * C.BYTES_PER_ELEMENT > bytes.length) throw new DensePoseError('TRUNCATED_FILE', `array "${name}" runs past the end of ${BIN_NAME}`, { where: bp });
    return new C(bytes.buffer, a.offset, a.length) as InstanceType<(typeof ctors)[K]>;
  };
  return withDistance({
    vertexPart: get('vertexPart', 'Uint8Array'), vertexU: get('vertexU', 'Float32Array'), vertexV: get('vertexV', 'Float32Array'),
    positions: get('positions', 'Float32Array'), distanceRow: get('distanceRow', 'Int32Array'), numRows: meta.numRows, condensed: get('condensed', 'Float32Array'),
  });
}
