// Full-size parity with detectron2 for zoo architectures, on random weights detectron2 built and ran
// itself (../shared/tools/detectron2-reference/gen_d2.py, `--sets uint8`: DefaultPredictor on uint8
// images). Loads OUT/models/<config>.pkl strictly into configs/<config>.json, runs createDensePose with
// its zoo defaults (Pillow resize, the config's score threshold) on the same images, matches detections
// and compares labels, U, V and confidences at box size. The models are 250–330 MB: never commit them.
//
//   . ../shared/tools/detectron2-reference/env.sh
//   $D2PY ../shared/tools/detectron2-reference/gen_d2.py --images a.png b.png --configs densepose_rcnn_R_50_FPN_s1x --sets uint8 --out /tmp/d2out
//   npx tsx scripts/zoo-parity.ts --d2 /tmp/d2out --images a.png,b.png --configs densepose_rcnn_R_50_FPN_s1x
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDensePose } from '../src/infer/densepose.ts';
import type { DensePosePerson } from '../src/infer/types.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { loadDetectron2 } from '../src/model/import-detectron2.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { readNpy } from '../src/runtime/checkpoint/npy.ts';
import { toFloat32 } from '../src/runtime/checkpoint/ndarray.ts';

const { values: args } = parseArgs({ options: { d2: { type: 'string' }, images: { type: 'string' }, configs: { type: 'string' }, tfjs: { type: 'string', default: 'cpu' } } });
if (!args.d2 || !args.images || !args.configs) throw new Error('usage: tsx scripts/zoo-parity.ts --d2 OUT --images A.png,B.png --configs densepose_rcnn_…,…');
const values = { d2: args.d2, tfjs: args.tfjs, images: args.images.split(','), configs: args.configs.split(',') };

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

await initBackend({ backend: values.tfjs as 'cpu' | 'wasm' });
const summary: Record<string, unknown>[] = [];
for (const name of values.configs) {
  const exp = join(values.d2, 'expected', name);
  const meta = existsSync(join(exp, 'meta.json')) ? (JSON.parse(readFileSync(join(exp, 'meta.json'), 'utf8')) as { confidence?: { names?: string[] } }) : {};
  const configPath = `configs/${name}.json`;
  const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(configPath), configPath);
  const t0 = performance.now();
  const report = loadDetectron2(rcnn.model, join(values.d2, 'models', `${name}.pkl`));
  const loadMs = performance.now() - t0;
  const dp = await createDensePose({ model: rcnn });
  let boxes = 0;
  let matched = 0;
  let pixels = 0;
  let same = 0;
  let sizeMismatch = 0;
  const du: number[] = [];
  const dv: number[] = [];
  const conf: Record<string, { worstAbs: number; p95Rel: number[] }> = {};
  let inferMs = 0;
  for (const image of values.images) {
    const stem = basename(image, extname(image));
    const ref = toFloat32(readNpy(join(exp, `${stem}_boxes_xyxy.npy`)));
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
        const d = people[best]!.densepose;
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
                const ours = d.confidence?.[CONF_NAMES[cn]!];
                if (!ours) return;
                const r = confRef.data[c * total + offset + k]!;
                const e = (conf[cn] ??= { worstAbs: 0, p95Rel: [] });
                const diff = Math.abs(ours[k]! - r);
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
  const row = {
    config: name,
    loaded: report.loaded,
    boxes: `${matched}/${boxes}`,
    sizeMismatch,
    labelsEqual: pixels ? same / pixels : 0,
    duP95: p95(du),
    dvP95: p95(dv),
    confidences: Object.fromEntries(Object.entries(conf).map(([k, v]) => [k, { worstAbs: v.worstAbs, p95RelToMax1: p95(v.p95Rel) }])),
    loadMs: Math.round(loadMs),
    inferMsPerImage: Math.round(inferMs / values.images.length),
  };
  console.log(JSON.stringify(row));
  summary.push(row);
}
