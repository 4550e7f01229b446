import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { loadDetectron2 } from '../src/model/import-detectron2.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { gradientTensors, OnnxRcnnTrainer } from '../src/train/onnx/onnx-trainer.ts';
import type { RcnnTrainOptions } from '../src/train/rcnn-trainable.ts';
import type { TrainSample } from '../src/train/sample.ts';
import { Sgd } from '../src/train/sgd.ts';
import { detectron2Setup } from './infer.ts';
import { median, samples } from './train.ts';

/**
 * `npm run bench -- train --vs detectron2`: one training step of the R50-FPN zoo config (gradients + SGD step,
 * momentum 0.9, weight decay 1e-4) on ONNX Runtime against detectron2's own step (bench/train_d2_peer.py: model
 * → loss dict → backward → SGD) on the same batch (2 synthetic 320×240 images) from the same checkpoint (the
 * reference's calibrated random R50 `.pkl`), run one after the other in this process' run, same thread count.
 * Our sampling follows detectron2's config: 256 anchors and 512 RoIs per image, DensePose on every foreground
 * RoI with IoU ≥ 0.7 (no cap). Prints medians, our per-stage breakdown, peak RSS of each side, load average.
 *
 * Args: `--iters N` (3), `--warmup N` (1), `--threads N` (2).
 */
const D2_CONFIG = 'densepose_rcnn_R_50_FPN_s1x';

const load = (): string => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;

/** Peak resident set of this process (VmHWM), MB. */
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The batch as bench/train_d2_peer.py reads it: raw RGB and 256×256 part masks next to a JSON index. */
export function writeBatch(dir: string, batch: TrainSample[]): string {
  const images = batch.map((s, k) => {
    const rgb = join(dir, `image${k}.rgb`);
    writeFileSync(rgb, s.image);
    const people = s.people
      .filter((p) => !p.iscrowd)
      .map((p, j) => {
        const d = p.densepose;
        if (!d || !d.masks) return { box: p.box };
        const masks = join(dir, `masks${k}_${j}.u8`);
        writeFileSync(masks, d.masks);
        return { box: p.box, x: [...d.x], y: [...d.y], i: [...d.i], u: [...d.u], v: [...d.v], masks };
      });
    return { rgb, height: s.height, width: s.width, people };
  });
  const file = join(dir, 'batch.json');
  writeFileSync(file, JSON.stringify({ images }));
  return file;
}

export async function runVsDetectron2(args: string[]): Promise<void> {
  const num = (name: string, d: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const iters = num('--iters', 3);
  const warmup = num('--warmup', 1);
  const threads = num('--threads', 2);
  // detectron2's first-iteration rate for this recipe at batch 2 (BASE_LR 0.01 × 2/16, warmup factor 0.1).
  const lr = 0.000125;
  const setup = detectron2Setup();
  if (!setup.ok) {
    console.log(`detectron2 not available: ${setup.why}`);
    return;
  }
  await initBackend();
  const batch = samples();
  console.log(
    `${D2_CONFIG} from ${setup.pkl} (random weights, calibrated FrozenBN) on both sides; batch ${batch.length} synthetic 320×240 images ` +
      `(${batch.map((s) => s.people.length).join(' + ')} people); ${threads} threads both sides; SGD lr ${lr}; median of ${iters} steps after ${warmup} warm-up; ${load()}`,
  );

  // Ours first (this process), then detectron2 (its own process), never both at once.
  const file = `configs/${D2_CONFIG}.json`;
  const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(file), file);
  loadDetectron2(rcnn.model, setup.pkl);
  rcnn.model.train();
  const options: RcnnTrainOptions = { mode: 'end2end', seed: 1, rpnBatchSize: 256, roiBatchSize: 512, maxDensePoseRois: 100_000 };
  const trainer = new OnnxRcnnTrainer(rcnn, options, { threads });
  const params = new Map(rcnn.model.namedParameters().filter(([, p]) => p.trainable).map(([n, p]) => [n, p.variable]));
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4 });
  const times: number[] = [];
  const parts: Record<string, number>[] = [];
  let firstLosses: Record<string, number> = {};
  for (let it = 0; it < warmup + iters; it++) {
    const t0 = performance.now();
    const r = await trainer.gradients(batch, it);
    const t = gradientTensors(rcnn.model, r.grads);
    sgd.step(params, t, lr);
    tf.dispose([...t.values()]);
    const s = (performance.now() - t0) / 1000;
    if (it === 0) firstLosses = r.losses;
    if (it >= warmup) {
      times.push(s);
      parts.push(r.timings);
    }
  }
  await trainer.dispose();
  sgd.dispose();
  rcnn.model.dispose();
  const ours = { median: median(times), times, peak: peakRssMb(), load: load() };
  console.log(`ours done: ${ours.load}`);

  const dir = mkdtempSync(join(tmpdir(), 'dp-bench-d2train-'));
  let d2: { backend: string; median_s: number; times_s: number[]; first_losses: Record<string, number>; peak_rss_mb: number };
  try {
    const batchFile = writeBatch(dir, batch);
    const script = new URL('./train_d2_peer.py', import.meta.url).pathname;
    const env = `. ${join(setup.tools, 'env.sh')}`;
    const cmd = `${env} && "$D2PY" ${script} --config ${D2_CONFIG} --model ${setup.pkl} --batch ${batchFile} --iters ${iters} --warmup ${warmup} --threads ${threads} --lr ${lr}`;
    const out = execFileSync('bash', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24, env: { ...process.env, D2FULL: setup.d2full } });
    d2 = JSON.parse(out.trim().split('\n').pop()!);
  } catch (e) {
    // The traceback's end says what went wrong (its start is the command line and torch warnings).
    console.log(`detectron2 peer failed: ${(e as Error).message.trim().split('\n').slice(-8).join(' | ')}`);
    return;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`detectron2 done: ${load()}`);
  const fmt = (l: Record<string, number>) => Object.entries(l).map(([k, v]) => `${k.replace('loss_', '')} ${v.toPrecision(4)}`).join(', ');
  console.log(`first-step losses, ours: ${fmt(firstLosses)}`);
  console.log(`first-step losses, detectron2: ${fmt(d2.first_losses)}`);
  console.log(['', 'ours (ORT)', `detectron2 (${d2.backend})`, 'ours / detectron2'].join(' | '));
  console.log(['step (median)', `${ours.median.toFixed(2)} s`, `${d2.median_s.toFixed(2)} s`, `**${(ours.median / d2.median_s).toFixed(2)}×**`].join(' | '));
  console.log(['steps', times.map((t) => t.toFixed(2)).join(', '), d2.times_s.map((t) => t.toFixed(2)).join(', '), ''].join(' | '));
  console.log(['peak RSS', `${ours.peak.toFixed(0)} MB`, `${d2.peak_rss_mb.toFixed(0)} MB`, ''].join(' | '));
  const keys = Object.keys(parts[0] ?? {});
  console.log(`ours per part (median s): ${keys.map((k) => `${k} ${median(parts.map((p) => p[k] ?? 0)).toFixed(3)}`).join(', ')}`);
}
