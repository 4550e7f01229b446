// Full-size parity with detectron2 for every zoo architecture, on random weights detectron2 builds and
// runs itself (../shared/tools/detectron2-reference/gen_d2.py, `--sets uint8`: DefaultPredictor on uint8
// images). For each config: gen_d2 makes OUT/models/<config>.pkl and OUT/expected/<config>/ when they are
// not there yet; we load the .pkl strictly into configs/<config>.json, run createDensePose with its zoo
// defaults (Pillow resize, the config's score threshold) on the same images, match detections and
// compare boxes, scores, labels, U, V and confidences at box size against the issue's bounds (all boxes
// matched, labels >= 99.5 % equal, |dU|, |dV| p95 <= 0.01, confidences p95 of |d| / max(1, |ref|) <= 1e-3).
// Exit 1 when a bound fails. The models are 250-330 MB each: never commit them (--rm-models deletes each
// after its comparison). One command, every architecture (detectron2 installed per the tools' README):
//
//   nice -n 15 npx tsx scripts/zoo-parity.ts --out /tmp/zoo-parity
//   nice -n 15 npx tsx scripts/zoo-parity.ts --out /tmp/zoo-parity --configs densepose_rcnn_R_50_FPN_DL_s1x --images a.png,b.png
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDensePose } from '../src/infer/densepose.ts';
import type { DensePosePerson } from '../src/infer/types.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { loadDetectron2 } from '../src/model/import-detectron2.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { readNpy } from '../src/runtime/checkpoint/npy.ts';
import { toFloat32 } from '../src/runtime/checkpoint/ndarray.ts';
import { generateDataset } from '../src/synth/index.ts';

/** One config per architecture of models/zoo.json: ResNet-50 / -101, plain and DeepLab heads, legacy, and the confidence heads (WC1, WC2, M). */
const ALL_ARCHITECTURES = [
  'densepose_rcnn_R_50_FPN_s1x',
  'densepose_rcnn_R_50_FPN_DL_s1x',
  'densepose_rcnn_R_101_FPN_s1x',
  'densepose_rcnn_R_50_FPN_s1x_legacy',
  'densepose_rcnn_R_101_FPN_s1x_legacy',
  'densepose_rcnn_R_50_FPN_WC2M_s1x',
  'densepose_rcnn_R_50_FPN_DL_WC1M_s1x',
];

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: '/tmp/zoo-parity' },
    d2: { type: 'string' }, // older spelling of --out
    images: { type: 'string' },
    configs: { type: 'string' },
    seed: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    tools: { type: 'string', default: process.env['D2TOOLS'] ?? resolve(import.meta.dirname, '../../shared/tools/detectron2-reference') },
    'rm-models': { type: 'boolean', default: false },
    tfjs: { type: 'string', default: 'cpu' },
  },
});
const out = resolve(args.d2 ?? args.out!);
const configs = args.configs ? args.configs.split(',') : ALL_ARCHITECTURES;

/** The input images: given, or two synthetic 640x480 scenes rendered once into OUT/synth. */
async function inputImages(): Promise<string[]> {
  if (args.images) return args.images.split(',').map((p) => resolve(p));
  const dir = join(out, 'synth');
  if (!existsSync(join(dir, 'annotations.json'))) {
    await generateDataset({ out: dir, images: 2, seed: 23, width: 640, height: 480, minPeople: 3, maxPeople: 6, workers: 1, body: false, force: true });
  }
  return readdirSync(join(dir, 'images')).sort().map((f) => join(dir, 'images', f));
}

/** detectron2's side for `name` (model + expected outputs), made by gen_d2.py unless already there. */
function ensureDetectron2(name: string, images: string[]): void {
  const exp = join(out, 'expected', name);
  const have = (f: string) => existsSync(join(exp, f));
  if (have('meta.json') && existsSync(join(out, 'models', `${name}.pkl`)) && images.every((i) => have(`${basename(i, extname(i))}_boxes_xyxy.npy`))) return;
  const tools = resolve(args.tools!);
  const command = `. "${tools}/env.sh" && exec nice -n 15 "$D2PY" "${tools}/gen_d2.py" --sets uint8 --seed ${Number(args.seed)} --threads ${Number(args.threads)} --out "${out}" --configs ${name}${existsSync(join(out, 'models', `${name}.pkl`)) ? ' --reuse-models' : ''} --images ${images.map((i) => `"${i}"`).join(' ')}`;
  console.error(`[${name}] detectron2: ${command}`);
  const r = spawnSync('bash', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`gen_d2.py failed for ${name} (exit ${r.status}); see ${tools}/README.md for the setup`);
}

/** float16 `.npy` (gen_d2 stores confidences as f2) → float32. */
function readF16Npy(path: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(path);
  const hlen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hlen).toString('latin1');
  if (!header.includes("'<f2'")) return { shape: readNpy(path).shape, data: toFloat32(readNpy(path)) };
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').filter((s) => s.trim()).map(Number);
  const raw = b.subarray(10 + hlen);
  const out = new Float32Array(raw.length / 2);
  for (let i = 0; i < out.length; i++) {
    const h = raw.readUInt16LE(2 * i);
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    out[i] = e === 0 ? s * 2 ** -14 * (m / 1024) : e === 31 ? (m ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + m / 1024);
  }
  return { shape, data: out };
}

function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

function p95(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))]!;
}

const CONF_NAMES: Record<string, 'sigma1' | 'sigma2' | 'kappaU' | 'kappaV' | 'fineSegm' | 'coarseSegm'> = {
  sigma_1: 'sigma1',
  sigma_2: 'sigma2',
  kappa_u: 'kappaU',
  kappa_v: 'kappaV',
  fine_segm_confidence: 'fineSegm',
  coarse_segm_confidence: 'coarseSegm',
};

/** The issue's bounds; a row that misses one is listed in `failed`. */
function failures(row: { boxes: [number, number]; sizeMismatch: number; labelsEqual: number; duP95: number; dvP95: number; confidences: Record<string, { p95RelToMax1: number }> }): string[] {
  const f: string[] = [];
  if (row.boxes[0] !== row.boxes[1]) f.push(`boxes ${row.boxes[0]}/${row.boxes[1]} matched`);
  if (row.sizeMismatch > 0) f.push(`${row.sizeMismatch} box sizes differ`);
  if (!(row.labelsEqual >= 0.995)) f.push(`labels ${(100 * row.labelsEqual).toFixed(3)} % equal < 99.5 %`);
  if (!(row.duP95 <= 0.01 && row.dvP95 <= 0.01)) f.push(`|dU|, |dV| p95 ${row.duP95.toFixed(4)}, ${row.dvP95.toFixed(4)} > 0.01`);
  for (const [k, v] of Object.entries(row.confidences)) if (!(v.p95RelToMax1 <= 1e-3)) f.push(`${k} p95 ${v.p95RelToMax1.toExponential(1)} > 1e-3`);
  return f;
}

const images = await inputImages();
await initBackend({ backend: args.tfjs as 'cpu' | 'wasm' });
const summary: { config: string; boxes: [number, number]; labelsEqual: number; duP95: number; dvP95: number; worstBoxPx: number; worstScore: number; confidences: Record<string, { worstAbs: number; p95RelToMax1: number }>; failed: string[] }[] = [];
for (const name of configs) {
  ensureDetectron2(name, images);
  const exp = join(out, 'expected', name);
  const meta = JSON.parse(readFileSync(join(exp, 'meta.json'), 'utf8')) as { confidence?: { names?: string[] }; score_thresh_lowered?: boolean };
  if (meta.score_thresh_lowered) console.error(`[${name}] note: gen_d2 lowered SCORE_THRESH_TEST to find detections; our side keeps the config's threshold`);
  const configPath = `configs/${name}.json`;
  const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(configPath), configPath);
  const pkl = join(out, 'models', `${name}.pkl`);
  const t0 = performance.now();
  const report = loadDetectron2(rcnn.model, pkl);
  const loadMs = performance.now() - t0;
  const dp = await createDensePose({ model: rcnn });
  let boxes = 0;
  let matched = 0;
  let pixels = 0;
  let same = 0;
  let sizeMismatch = 0;
  let worstBoxPx = 0;
  let worstScore = 0;
  const du: number[] = [];
  const dv: number[] = [];
  const conf: Record<string, { worstAbs: number; p95Rel: number[] }> = {};
  let inferMs = 0;
  for (const image of images) {
    const stem = basename(image, extname(image));
    const ref = toFloat32(readNpy(join(exp, `${stem}_boxes_xyxy.npy`)));
    const refScores = toFloat32(readNpy(join(exp, `${stem}_scores.npy`)));
    const hw = readNpy(join(exp, `${stem}_hw.npy`)).data as Int32Array;
    const iuv = readNpy(join(exp, `${stem}_iuv.npy`)).data as Uint8Array;
    const uv = toFloat32(readNpy(join(exp, `${stem}_uv.npy`)));
    const confPath = join(exp, `${stem}_conf.npy`);
    const confRef = existsSync(confPath) ? readF16Npy(confPath) : undefined;
    const t1 = performance.now();
    const people: DensePosePerson[] = await dp.estimate(image);
    inferMs += performance.now() - t1;
    const n = ref.length / 4;
    const total = iuv.length / 3;
    const used = new Set<number>();
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const [h, w] = [hw[2 * i]!, hw[2 * i + 1]!];
      const box = ref.subarray(4 * i, 4 * i + 4);
      boxes++;
      let best = -1;
      let bestIou = 0;
      people.forEach((p, j) => {
        if (used.has(j)) return;
        const q = iou(box, [p.box[0], p.box[1], p.box[0] + p.box[2], p.box[1] + p.box[3]]);
        if (q > bestIou) [best, bestIou] = [j, q];
      });
      if (best >= 0 && bestIou >= 0.9) {
        used.add(best);
        matched++;
        const p = people[best]!;
        const ours = [p.box[0], p.box[1], p.box[0] + p.box[2], p.box[1] + p.box[3]];
        for (let c = 0; c < 4; c++) worstBoxPx = Math.max(worstBoxPx, Math.abs(ours[c]! - box[c]!));
        worstScore = Math.max(worstScore, Math.abs(p.score - refScores[i]!));
        const d = p.densepose;
        if (d.width !== w || d.height !== h) sizeMismatch++;
        else {
          for (let k = 0; k < h * w; k++) {
            const label = iuv[offset + k]!;
            pixels++;
            if (d.labels[k] !== label) continue;
            same++;
            if (label === 0) continue;
            du.push(Math.abs(d.u[k]! - uv[offset + k]!));
            dv.push(Math.abs(d.v[k]! - uv[total + offset + k]!));
            if (confRef) {
              (meta.confidence?.names ?? []).forEach((cn, c) => {
                const oursC = d.confidence?.[CONF_NAMES[cn]!];
                if (!oursC) return;
                const r = confRef.data[c * total + offset + k]!;
                const e = (conf[cn] ??= { worstAbs: 0, p95Rel: [] });
                const diff = Math.abs(oursC[k]! - r);
                e.worstAbs = Math.max(e.worstAbs, diff);
                e.p95Rel.push(diff / Math.max(1, Math.abs(r)));
              });
            }
          }
        }
      }
      offset += h * w;
    }
  }
  await dp.dispose();
  rcnn.model.dispose();
  for (const cn of meta.confidence?.names ?? []) if (!conf[cn]) conf[cn] = { worstAbs: Infinity, p95Rel: [Infinity] }; // a confidence we do not produce fails
  const row = {
    config: name,
    loaded: report.loaded,
    boxes: [matched, boxes] as [number, number],
    sizeMismatch,
    worstBoxPx,
    worstScore,
    labelsEqual: pixels ? same / pixels : 0,
    duP95: p95(du),
    dvP95: p95(dv),
    confidences: Object.fromEntries(Object.entries(conf).map(([k, v]) => [k, { worstAbs: v.worstAbs, p95RelToMax1: p95(v.p95Rel) }])),
    loadMs: Math.round(loadMs),
    inferMsPerImage: Math.round(inferMs / images.length),
  };
  const failed = failures(row);
  console.log(JSON.stringify({ ...row, failed }));
  summary.push({ ...row, failed });
  if (args['rm-models']) rmSync(pkl, { force: true });
}

console.log('\n| zoo config | boxes matched | worst box / score Δ | labels equal | |ΔU| / |ΔV| p95 | confidences, p95 of |Δ| / max(1, |ref|) | bounds |');
console.log('|---|---|---|---|---|---|---|');
for (const r of summary) {
  const c = Object.entries(r.confidences).map(([k, v]) => `${k} ${v.p95RelToMax1.toExponential(1)}`).join(', ') || '—';
  console.log(`| ${r.config.replace('densepose_rcnn_', '')} | ${r.boxes[0]}/${r.boxes[1]} | ${r.worstBoxPx.toFixed(3)} px / ${r.worstScore.toExponential(1)} | ${(100 * r.labelsEqual).toFixed(4)} % | ${r.duP95.toFixed(4)} / ${r.dvP95.toFixed(4)} | ${c} | ${r.failed.length ? `FAIL: ${r.failed.join('; ')}` : 'ok'} |`);
}
process.exitCode = summary.some((r) => r.failed.length > 0) ? 1 : 0;
