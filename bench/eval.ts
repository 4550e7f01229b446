// `npm run bench -- eval [--people N] [--pdist-n N] [--skip-pdist]`
// 1. DensePose evaluation (GPS, GPSm, IOU) of N synthetic people × 100 points (goal ≤ 10 s for 10,000),
//    with the per-part nearest-vertex grid against the reference's brute-force argmin as baseline.
// 2. Peak memory of reading a Pdist_matrix.pkl-shaped pickle (n = 27554 → 1.5 GB) in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePdistPickle } from '../src/data/body-files.ts';
import { encodeMask } from '../src/data/mask.ts';
import type { CocoAnnotation, CocoDataset } from '../src/data/coco.ts';
import { bodyModelFromArrays } from '../src/eval/body-model.ts';
import type { BodyModel } from '../src/eval/body-model.ts';
import { evaluateDensePose } from '../src/eval/densepose-eval.ts';
import type { DensePoseDetection } from '../src/eval/densepose-results.ts';
import { UvNearest } from '../src/eval/uv-nearest.ts';
import { readPickle } from '../src/runtime/checkpoint/pickle.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** A body of `rows` distance rows and 3 vertices per row, parts spread evenly, distances Euclidean in a fake 3-D embedding. */
function syntheticBody(rows: number): BodyModel {
  const r = rng(1);
  const nv = rows * 3;
  const part = Uint8Array.from({ length: nv }, (_, i) => 1 + (i % 24));
  const u = Float64Array.from({ length: nv }, () => r()), v = Float64Array.from({ length: nv }, () => r());
  const pos = Float64Array.from({ length: rows * 3 }, () => r());
  const condensed = new Float32Array((rows * (rows - 1)) / 2);
  let k = 0;
  for (let a = 0; a < rows; a++) for (let b = a + 1; b < rows; b++) condensed[k++] = Math.hypot(pos[3 * a]! - pos[3 * b]!, pos[3 * a + 1]! - pos[3 * b + 1]!, pos[3 * a + 2]! - pos[3 * b + 2]!);
  return bodyModelFromArrays({ name: 'bench-body', vertexPart: part, vertexU: u, vertexV: v, distanceRow: Int32Array.from({ length: nv }, (_, i) => Math.floor(i / 3)), condensed });
}

function syntheticSet(people: number): { gt: CocoDataset; dets: DensePoseDetection[] } {
  const r = rng(2);
  const perImage = 4;
  const full = encodeMask(new Uint8Array(256 * 256).fill(1), 256, 256);
  const images = Array.from({ length: Math.ceil(people / perImage) }, (_, i) => ({ id: i + 1, width: 640, height: 480, file_name: `${i + 1}.png` }));
  const annotations: CocoAnnotation[] = [];
  const dets: DensePoseDetection[] = [];
  for (let p = 0; p < people; p++) {
    const img = images[Math.floor(p / perImage)]!;
    const w = 60 + r() * 100, h = 120 + r() * 200;
    const x = r() * (640 - w), y = r() * (480 - h);
    const a: CocoAnnotation = { id: p + 1, image_id: img.id, category_id: 1, bbox: [x, y, w, h], area: w * h * 0.6, iscrowd: 0, dp_x: [], dp_y: [], dp_I: [], dp_U: [], dp_V: [], dp_masks: [full, ...Array(13).fill([])] };
    for (let k = 0; k < 100; k++) {
      a.dp_x!.push(r() * 255); a.dp_y!.push(r() * 255); a.dp_I!.push(1 + Math.floor(r() * 24)); a.dp_U!.push(r()); a.dp_V!.push(r());
    }
    annotations.push(a);
    // A detection near the person whose IUV agrees at about half the points.
    const bx = x + (r() - 0.5) * 6, by = y + (r() - 0.5) * 6;
    const bw = w * (0.95 + r() * 0.1), bh = h * (0.95 + r() * 0.1);
    const H = Math.max(Math.trunc(bh), 1), W = Math.max(Math.trunc(bw), 1);
    const data = new Uint8Array(3 * H * W);
    for (let i = 0; i < H * W; i++) { data[i] = 1 + (i % 24); data[H * W + i] = (i * 7) & 255; data[2 * H * W + i] = (i * 13) & 255; }
    for (let k = 0; k < 100; k++) {
      if (r() < 0.5) continue;
      const px = Math.trunc((a.dp_x![k]! * w) / 255 + x - bx), py = Math.trunc((a.dp_y![k]! * h) / 255 + y - by);
      if (px < 0 || py < 0 || px >= W || py >= H) continue;
      const o = py * W + px;
      data[o] = a.dp_I![k]!; data[H * W + o] = Math.round(a.dp_U![k]! * 255); data[2 * H * W + o] = Math.round(a.dp_V![k]! * 255);
    }
    dets.push({ image_id: img.id, category_id: 1, bbox: [bx, by, bw, bh], score: r(), id: p + 1, area: bw * bh, index: p, iuv: { height: H, width: W, data } });
  }
  return { gt: { images, annotations, categories: [{ id: 1, name: 'person' }] }, dets };
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

function arg(args: string[], key: string, fallback: number): number {
  const i = args.indexOf(key);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

async function pdistChild(path: string): Promise<void> {
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const root = readPickle(path) as Map<string, { data: Float32Array; shape: number[] }>;
  const ms = performance.now() - t0;
  const arr = root.get('Pdist_matrix')!;
  console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, rssBeforeMiB: before / 2 ** 20, length: arr.data.length, sample: arr.data[arr.data.length - 1] }));
}

export async function run(args: string[]): Promise<void> {
  const child = args.indexOf('--child-pickle');
  if (child >= 0) return pdistChild(args[child + 1]!);
  const people = arg(args, '--people', 10000);
  const body = syntheticBody(2000);
  const { gt, dets } = syntheticSet(people);

  // Nearest vertex: grid vs the reference's argmin over the part's vertices.
  const near = new UvNearest(body);
  const r = rng(3);
  const q = Array.from({ length: 200000 }, () => [1 + Math.floor(r() * 24), r(), r()] as const);
  const byPart: number[][] = Array.from({ length: 25 }, () => []);
  for (let i = 0; i < body.numVertices; i++) byPart[body.vertexPart[i]!]!.push(i);
  const [, tGrid] = time(() => { let s = 0; for (const [p, u, v] of q) s += near.nearest(p, u, v); return s; });
  const [mismatch, tBrute] = time(() => {
    let bad = 0;
    for (const [p, u, v] of q) {
      let best = Infinity, bi = -1;
      for (const i of byPart[p]!) { const d = Math.hypot(body.vertexU[i]! - u, body.vertexV[i]! - v); if (d < best) { best = d; bi = i; } }
      if (bi !== near.nearest(p, u, v)) bad++;
    }
    return bad;
  });

  const [resGps, tGps] = time(() => evaluateDensePose(gt, dets, body, { modes: ['gps'] }));
  const [, tAll] = time(() => evaluateDensePose(gt, dets, body));
  console.log(`| step | time | ratio |`);
  console.log(`|---|---|---|`);
  console.log(`| nearest vertex, 200k queries, brute-force argmin (reference algorithm, baseline) | ${tBrute.toFixed(0)} ms | 1.00 |`);
  console.log(`| nearest vertex, 200k queries, per-part grid (${mismatch} disagreements) | ${tGrid.toFixed(0)} ms | ${(tGrid / tBrute).toFixed(3)} |`);
  console.log(`| DensePose eval GPS, ${people} people × 100 points (goal ≤ 10 s) | ${(tGps / 1000).toFixed(2)} s | ${(tGps / tBrute).toFixed(2)} |`);
  console.log(`| DensePose eval GPS+GPSm+IOU, ${people} people × 100 points | ${(tAll / 1000).toFixed(2)} s | ${(tAll / tBrute).toFixed(2)} |`);
  console.log(`(GPS AP on this synthetic set: ${resGps.gps!.named.AP.toFixed(3)})`);

  if (args.includes('--skip-pdist')) return;
  const n = arg(args, '--pdist-n', 27554);
  const dir = mkdtempSync(join(tmpdir(), 'dp-pdist-'));
  const path = join(dir, 'Pdist_matrix.pkl');
  try {
    const [, tWrite] = time(() => writePdistPickle(path, n, (start, out) => { for (let k = 0; k < out.length; k++) out[k] = ((start + k) % 1000) / 1000; }));
    const size = statSync(path).size;
    const self = fileURLToPath(import.meta.url);
    const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(self)}).then(m => m.run(['--child-pickle', ${JSON.stringify(path)}]))`], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const line = res.stdout.trim().split('\n').pop() ?? '';
    if (res.status !== 0 || !line.startsWith('{')) throw new Error(`pickle child failed: ${res.stderr}`);
    const m = JSON.parse(line) as { ms: number; maxRssMiB: number; rssBeforeMiB: number };
    console.log(`\n| Pdist pickle (n = ${n}) | value |`);
    console.log(`|---|---|`);
    console.log(`| file size | ${(size / 2 ** 20).toFixed(0)} MiB |`);
    console.log(`| write (streamed) | ${(tWrite / 1000).toFixed(1)} s |`);
    console.log(`| readPickle | ${(m.ms / 1000).toFixed(2)} s |`);
    console.log(`| peak RSS of the reading process | ${m.maxRssMiB.toFixed(0)} MiB (${(m.maxRssMiB / (size / 2 ** 20)).toFixed(2)}× file; ${m.rssBeforeMiB.toFixed(0)} MiB before reading) |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
