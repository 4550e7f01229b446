import { execFileSync } from 'node:child_process';
import { bboxIou } from '../src/data/mask.ts';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { convertCommand } from '../src/cli/commands/convert.ts';
import { createDensePose, type CreateDensePoseOptions, type DensePose } from '../src/infer/densepose.ts';
import type { DensePosePerson } from '../src/infer/types.ts';
import { readImage } from '../src/infer/image-io.ts';
import { saveModel } from '../src/infer/model-file.ts';
import { StepTimes } from '../src/infer/profile.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { createSceneRenderer } from '../src/synth/scene.ts';
import { initBackend } from '../src/runtime/backend.ts';

const DEFAULT_MODEL = 'models/default.safetensors';
const D2_CONFIG = 'densepose_rcnn_R_50_FPN_s1x';
const FIXTURE_IMAGE = new URL('../../shared/fixtures/detectron2/image_480x640.png', import.meta.url).pathname;
const D2_README = '../shared/tools/detectron2-reference/README.md';

type Args = { get(k: string): string | undefined; has(k: string): boolean };

/**
 * End-to-end inference benchmarks; every figure is printed beside a peer measured in the same run.
 * - `bench infer` — throughput of `estimate` (decoded RGB in → people with IUV maps out) on the bundled model
 *   at `--size` (default 320×240, fed at its own size) on ONNX Runtime for batch 1 and `--batch` (default 8),
 *   and tfjs-wasm at batch 1 (`--skip-tfjs`). Goal: ≥ 25 images/s batched on 2 cores.
 * - `bench infer --profile` — wall time per pipeline step (stage runs and host steps between them) at 2 and
 *   100 people (`--people 2,100`): the R50-FPN zoo model when detectron2's reference checkpoint exists
 *   (`--model FILE` to choose), on `--image` (default the detectron2 fixture image).
 * - `bench infer --vs detectron2` — load time and per-image time at 2 and 100 people, ours and detectron2's
 *   (PyTorch CPU) on the same checkpoint, image and thread count (`--threads 2`), warm-up then median of
 *   `--runs` (3). detectron2 is never a dependency: without it, this says how to install it.
 * Common: `--threads N` (ORT intra-op threads, default 2 for the comparisons, 0 = ORT's choice elsewhere),
 * `--int8-head` / `--int8` (opt-in int8 DensePose head / body + head, calibrated on the benchmark image);
 * `bench infer --profile --compare spinning|int8-head|int8` — same-run A/B with the outputs' agreement.
 */
export async function run(argv: string[]): Promise<void> {
  const args: Args = {
    get: (k) => {
      const i = argv.indexOf(`--${k}`);
      return i >= 0 ? argv[i + 1] : undefined;
    },
    has: (k) => argv.includes(`--${k}`),
  };
  await initBackend({ backend: 'wasm' });
  if (args.has('vs')) {
    const peer = args.get('vs');
    if (peer !== 'detectron2') throw new Error(`bench infer --vs: unknown peer "${peer}". Expected one of: detectron2.`);
    return vsDetectron2(args);
  }
  if (args.has('profile')) return profile(args);
  return throughput(args);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = (): string => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
const peopleCounts = (a: Args): number[] => (a.get('people') ?? '2,100').split(',').map(Number);
const precisionOptions = (a: Args, image: string): Partial<CreateDensePoseOptions> =>
  a.has('int8') ? { precision: 'int8', calibrationImages: [image] } : a.has('int8-head') ? { precision: 'int8-head', calibrationImages: [image] } : {};
const precisionName = (a: Args): string => (a.has('int8') ? ', int8 body + head' : a.has('int8-head') ? ', int8 head' : '');

/** detectron2's reference install (`../shared/tools/detectron2-reference`), or why it is not usable. */
export function detectron2Setup(): { ok: true; d2full: string; tools: string; py: string; pkl: string } | { ok: false; why: string } {
  const d2full = process.env.D2FULL ?? '/tmp/d2full';
  const tools = new URL('../../shared/tools/detectron2-reference', import.meta.url).pathname;
  const py = process.env.D2PY ?? '/usr/bin/python3';
  const pkl = join(d2full, 'models', `${D2_CONFIG}.pkl`);
  const how = `install it as ${D2_README} describes (. env.sh && bash setup.sh; then gen_d2.py --images ${FIXTURE_IMAGE} --configs ${D2_CONFIG} --seed 7 --models-only)`;
  if (!existsSync(join(tools, 'env.sh'))) return { ok: false, why: `no detectron2 reference tooling at ${tools}; ${how}` };
  if (!existsSync(join(d2full, 'detectron2'))) return { ok: false, why: `detectron2 is not set up under ${d2full} (D2FULL); ${how}` };
  if (!existsSync(pkl)) return { ok: false, why: `no ${pkl}; ${how}` };
  return { ok: true, d2full, tools, py, pkl };
}

/** Our model file of the detectron2 checkpoint (converted once with `densepose convert`, cached next to it). */
async function ourCheckpoint(d2full: string, pkl: string): Promise<string> {
  const dir = join(d2full, 'ours');
  const out = join(dir, `${D2_CONFIG}.safetensors`);
  // Reconverted when the .pkl is newer (gen_d2.py rerun with another seed).
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(pkl).mtimeMs) {
    mkdirSync(dir, { recursive: true });
    await convertCommand(['--from', 'detectron2', pkl, '--config', `configs/${D2_CONFIG}.json`, '--out', out]);
  }
  return out;
}

/** Load (createDensePose) and per-image times at each people count: warm-up, then median of `runs`. */
async function timeOurs(model: string, image: string, people: number[], runs: number, threads: number, extra: Partial<CreateDensePoseOptions>) {
  const t0 = performance.now();
  const dp = await createDensePose({ model, threads, scoreThreshold: 0.05, batchSize: 1, ...extra });
  const loadMs = performance.now() - t0;
  const px = await readImage(image);
  const rows: { people: number; found: number; ms: number; runs: number[] }[] = [];
  for (const n of people) {
    const times: number[] = [];
    let found = 0;
    for (let r = 0; r <= runs; r++) {
      const t = performance.now();
      found = (await dp.estimate(px, { maxPeople: n })).length;
      if (r > 0) times.push(performance.now() - t);
    }
    rows.push({ people: n, found, ms: median(times), runs: times });
  }
  await dp.dispose();
  return { loadMs, rows, provider: dp.executionProvider };
}

async function vsDetectron2(a: Args): Promise<void> {
  const setup = detectron2Setup();
  if (!setup.ok) {
    console.log(`detectron2 not available: ${setup.why}`);
    return;
  }
  const image = a.get('image') ?? FIXTURE_IMAGE;
  const people = peopleCounts(a);
  const runs = Number(a.get('runs') ?? 3);
  const threads = Number(a.get('threads') ?? 2);
  const model = a.get('model') ?? (await ourCheckpoint(setup.d2full, setup.pkl));
  console.log(`${D2_CONFIG} (${setup.pkl}, random weights, calibrated FrozenBN); image ${image}; ${threads} threads both sides; warm-up + median of ${runs}; score 0.05, people = detections cap`);
  console.log(`before: ${load()}`);
  const ours = await timeOurs(model, image, people, runs, threads, precisionOptions(a, image));
  console.log(`after ours: ${load()}`);
  const env = `. ${join(setup.tools, 'env.sh')}`;
  const script = new URL('./infer_d2_peer.py', import.meta.url).pathname;
  const cmd = `${env} && "$D2PY" ${script} --config ${D2_CONFIG} --image ${image} --model ${setup.pkl} --people ${people.join(',')} --runs ${runs} --threads ${threads}`;
  let d2: { backend: string; rows: { people: number; found: number; load_s: number; median_s: number; runs_s: number[] }[] };
  try {
    const out = execFileSync('bash', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24, env: { ...process.env, D2FULL: setup.d2full } });
    d2 = JSON.parse(out.trim().split('\n').pop()!);
  } catch (e) {
    console.log(`detectron2 peer failed (${(e as Error).message.split('\n').slice(0, 3).join(' | ')}); ${D2_README} says how to set it up`);
    return;
  }
  console.log(`after detectron2: ${load()}`);
  console.log(['', `ours (ORT ${ours.provider}${precisionName(a)})`, `detectron2 (${d2.backend})`, 'detectron2 / ours'].join(' | '));
  const d2Load = d2.rows[0]!.load_s * 1000;
  console.log(['model load', `${ours.loadMs.toFixed(0)} ms`, `${d2Load.toFixed(0)} ms`, `${(d2Load / ours.loadMs).toFixed(2)}×`].join(' | '));
  for (const r of ours.rows) {
    const p = d2.rows.find((x) => x.people === r.people);
    if (!p) continue;
    const theirs = p.median_s * 1000;
    console.log([`per image, ${r.people} people (found ours ${r.found} / d2 ${p.found})`, `${r.ms.toFixed(0)} ms`, `${theirs.toFixed(0)} ms`, `**${(theirs / r.ms).toFixed(2)}×**`].join(' | '));
  }
  console.log(`runs (ms): ours ${ours.rows.map((r) => `${r.people}p [${r.runs.map((x) => x.toFixed(0)).join(', ')}]`).join('; ')}; detectron2 ${d2.rows.map((r) => `${r.people}p [${r.runs_s.map((x) => (x * 1000).toFixed(0)).join(', ')}]`).join('; ')}`);
}

async function profile(a: Args): Promise<void> {
  const image = a.get('image') ?? FIXTURE_IMAGE;
  let model = a.get('model');
  if (!model) {
    const setup = detectron2Setup();
    if (setup.ok) model = await ourCheckpoint(setup.d2full, setup.pkl);
    else {
      console.log(`(no R50 reference checkpoint: ${setup.why}; profiling the bundled model instead)`);
      model = DEFAULT_MODEL;
    }
  }
  const people = peopleCounts(a);
  const runs = Number(a.get('runs') ?? 2);
  const threads = Number(a.get('threads') ?? 2);
  const batch = Number(a.get('batch') ?? 1);
  const compare = a.get('compare');
  if (compare !== undefined) return abCompare(a, model, image, compare, people, runs, threads, batch);
  const t0 = performance.now();
  const dp = await createDensePose({ model, threads, scoreThreshold: 0.05, batchSize: batch, ...precisionOptions(a, image) });
  const loadMs = performance.now() - t0;
  const px = await readImage(image);
  const input = Array.from({ length: batch }, () => px);
  console.log(`model ${model} (${dp.spec.name}); image ${image}${batch > 1 ? ` ×${batch} per estimate call (times per call)` : ''}; ${threads} threads; load ${loadMs.toFixed(0)} ms; warm-up + mean of ${runs}; ${load()}`);
  const cols: { people: number; found: number; wall: number; steps: StepTimes }[] = [];
  for (const n of people) {
    await dp.estimate(input, { maxPeople: n });
    const steps = new StepTimes();
    let wall = 0;
    let found = 0;
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      found = (await dp.estimate(input, { maxPeople: n, profile: steps })).flat().length;
      wall += performance.now() - t;
    }
    for (const s of steps.steps.values()) s.ms /= runs;
    cols.push({ people: n, found, wall: wall / runs, steps });
  }
  await dp.dispose();
  const names = [...new Set(cols.flatMap((c) => [...c.steps.steps.keys()]))];
  console.log(['step', ...cols.flatMap((c) => [`${c.people} people (${c.found} found) ms`, '%'])].join(' | '));
  for (const name of [...names, 'untimed (reading input, glue)', 'wall']) {
    const cells = cols.flatMap((c) => {
      const ms = name === 'wall' ? c.wall : name.startsWith('untimed') ? c.wall - c.steps.total() : (c.steps.steps.get(name)?.ms ?? 0);
      return [ms.toFixed(1), `${((100 * ms) / c.wall).toFixed(1)}`];
    });
    console.log([name, ...cells].join(' | '));
  }
  if (cols.length >= 2) {
    const [lo, hi] = [cols[0]!, cols[cols.length - 1]!];
    console.log(`per extra person: ${((hi.wall - lo.wall) / Math.max(hi.found - lo.found, 1)).toFixed(1)} ms; ${load()}`);
  }
}

/** Same-run A/B of one setting (`--compare spinning|int8-head`): two instances, runs alternating, ratio of medians. */
async function abCompare(a: Args, model: string, image: string, what: string, people: number[], runs: number, threads: number, batch: number): Promise<void> {
  const variants: Record<string, [string, Partial<CreateDensePoseOptions>, Partial<CreateDensePoseOptions>]> = {
    spinning: ['ORT threads spin (A) vs not (B)', { ort: { spinning: true } }, { ort: { spinning: false } }],
    'int8-head': ['float32 (A) vs int8 DensePose head (B)', {}, { precision: 'int8-head', calibrationImages: [image] }],
    int8: ['float32 (A) vs int8 body + head (B)', {}, { precision: 'int8', calibrationImages: [image] }],
  };
  const v = variants[what];
  if (!v) throw new Error(`bench infer --compare: unknown "${what}". Expected one of: ${Object.keys(variants).join(', ')}.`);
  const common = { model, threads, scoreThreshold: 0.05, batchSize: batch };
  const A = await createDensePose({ ...common, ...v[1] });
  const B = await createDensePose({ ...common, ...v[2] });
  const px = await readImage(image);
  const input = Array.from({ length: batch }, () => px);
  console.log(`${v[0]}; model ${model}; ${batch} image(s) per call; ${threads} threads; runs alternate A, B; ${load()}`);
  console.log(['people', 'A ms (median)', 'B ms (median)', 'A / B', 'B vs A outputs'].join(' | '));
  for (const n of people) {
    const ra = (await A.estimate(input, { maxPeople: n })).flat();
    const rb = (await B.estimate(input, { maxPeople: n })).flat();
    const ta: number[] = [];
    const tb: number[] = [];
    for (let r = 0; r < runs; r++) {
      for (const [dp, t] of [[A, ta], [B, tb]] as const) {
        const t0 = performance.now();
        await dp.estimate(input, { maxPeople: n });
        t.push(performance.now() - t0);
      }
    }
    console.log([n, median(ta).toFixed(1), median(tb).toFixed(1), `${(median(ta) / median(tb)).toFixed(2)}×`, outputAgreement(ra, rb)].join(' | '));
  }
  await A.dispose();
  await B.dispose();
  console.log(load());
}

/** How far B's people are from A's: each A person matched to B's best-IoU box; IoU, score and label agreement over the box. */
function outputAgreement(a: readonly DensePosePerson[], b: readonly DensePosePerson[]): string {
  let ious = 0;
  let scoreDiff = 0;
  let same = 0;
  let pixels = 0;
  let fgA = 0;
  let fgSame = 0;
  for (const p of a) {
    // pycocotools' box IoU (boxes are xywh), one row per A person
    const row = bboxIou([p.box], b.map((q) => q.box), new Array<number>(b.length).fill(0));
    let best: DensePosePerson | undefined;
    let bi = -1;
    b.forEach((q, j) => {
      if (row[j]! > bi) [best, bi] = [q, row[j]!];
    });
    if (!best) continue;
    ious += bi;
    scoreDiff = Math.max(scoreDiff, Math.abs(p.score - best.score));
    const la = p.densepose.labels;
    const lb = best.densepose.labels;
    if (p.densepose.width === best.densepose.width && p.densepose.height === best.densepose.height) {
      for (let i = 0; i < la.length; i++) {
        pixels++;
        if (la[i] === lb[i]) same++;
        if (la[i]! > 0) {
          fgA++;
          if (la[i] === lb[i]) fgSame++;
        }
      }
    }
  }
  return `${b.length}/${a.length} people, mean best IoU ${(ious / Math.max(a.length, 1)).toFixed(3)}, max |Δscore| ${scoreDiff.toFixed(3)}, labels equal on ${((100 * same) / Math.max(pixels, 1)).toFixed(1)}% of same-size boxes' pixels (${((100 * fgSame) / Math.max(fgA, 1)).toFixed(1)}% of A's foreground)`;
}

async function throughput(a: Args): Promise<void> {
  const count = Number(a.get('images') ?? 16);
  const [w, h] = (a.get('size') ?? '320x240').split('x').map(Number) as [number, number];
  const people = Number(a.get('people') ?? 100);
  const batch = Number(a.get('batch') ?? 8);
  const threads = Number(a.get('threads') ?? 0);
  let model = a.get('model') ?? (existsSync(DEFAULT_MODEL) ? DEFAULT_MODEL : undefined);
  let tmp: string | undefined;
  let what = model ?? '';
  if (!model) {
    const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig('configs/densepose_rcnn_R_18_FPN_small.json'));
    new Map(rcnn.model.namedParameters()).get('roi_heads.box_predictor.cls_score.bias')!.assign(tf.tensor1d([6, 0]));
    tmp = mkdtempSync(join(tmpdir(), 'dp-bench-infer-'));
    model = join(tmp, 'r18-small.safetensors');
    await saveModel(model, rcnn);
    rcnn.model.dispose();
    what = 'random R18-small (configs/densepose_rcnn_R_18_FPN_small.json, box head biased to people)';
  }
  // Synthetic people (what the bundled model was trained on), so the DensePose head does real work.
  const renderer = createSceneRenderer();
  const images = Array.from({ length: count }, (_, k) => {
    const s = renderer.render({ seed: 4242, index: k, width: w, height: h, minPeople: 1, maxPeople: 3 });
    return { width: s.width, height: s.height, data: s.rgb };
  });
  console.log(`model: ${what}; ${count} synthetic images ${w}×${h} (1–3 people) fed at short side ${Math.min(w, h)}; ≤ ${people} people/image; ${availableParallelism()} cores visible; ${load()}`);
  const rows: { name: string; ms: number; people: number }[] = [];
  const measure = async (name: string, dp: DensePose, b: number) => {
    await dp.estimate(images.slice(0, b), { maxPeople: people }); // warm-up
    let found = 0;
    const t0 = performance.now();
    for (let i = 0; i < images.length; i += b) {
      const out = await dp.estimate(images.slice(i, i + b), { maxPeople: people });
      for (const p of out) found += p.length;
    }
    rows.push({ name, ms: (performance.now() - t0) / images.length, people: found / images.length });
  };
  const common = { model, minSize: Math.min(w, h), maxSize: Math.max(w, h, 1333), scoreThreshold: 0.5, threads } as const;
  for (const b of [1, batch]) {
    const dp = await createDensePose({ ...common, backend: 'onnx', batchSize: b });
    await measure(`ONNX Runtime cpu, batch ${b}`, dp, b);
    await dp.dispose();
  }
  if (!a.has('skip-tfjs')) {
    const dp = await createDensePose({ ...common, backend: 'tfjs', tfjsBackend: 'wasm', batchSize: 1 });
    await measure('tfjs-wasm, batch 1', dp, 1);
    await dp.dispose();
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const base = rows[0]!.ms;
  console.log(['backend', 'ms/image', 'images/s', 'people/image', 'time vs ORT batch 1'].join(' | '));
  for (const r of rows) console.log([r.name, r.ms.toFixed(1), (1000 / r.ms).toFixed(2), r.people.toFixed(1), `${(r.ms / base).toFixed(2)}×`].join(' | '));
  console.log(`goal: ≥ 25 images/s batched (${load()})`);
}
