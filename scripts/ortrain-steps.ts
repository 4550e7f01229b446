// Training steps of the ONNX Runtime engine on synthetic batches: seconds per step with the per-stage
// breakdown, and resident memory per step (issue #18: no RSS growth over 200 iterations; the R50-FPN
// zoo config at batch 2, 240×320 within 24 GB). Each step = gradients + the SGD update as the loop does it.
//
//   npx tsx scripts/ortrain-steps.ts [--config configs/densepose_rcnn_R_50_FPN_s1x.json] [--iters 200]
//        [--size 240x320] [--mode end2end|head] [--threads 0] [--every 20] [--seed 1]
//        [--lr 0.00125] [--warmup-iters 1000] [--warmup-factor 0.1] (detectron2's DensePose R50 recipe, BASE_LR 0.01 at
//        16 images scaled to batch 2, linear warmup from 0.1×)
//        [--calibrate] (FrozenBN statistics from the first image: the init for FrozenBN models from random weights)
//        [--activations keep|recompute] (the body backward's source of activations)
//        [--weights model.pkl] (a detectron2 checkpoint to start from instead of the random init)
// Stops at the first non-finite loss or gradient, naming the tensors.
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import type { CocoAnnotation } from '../src/data/coco.ts';
import { calibrateFrozenBatchNorm } from '../src/model/calibrate-frozen-bn.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { loadDetectron2 } from '../src/model/import-detectron2.ts';
import { preprocessImage } from '../src/model/preprocess.ts';
import { seedInit } from '../src/runtime/layers.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { annotateScene } from '../src/synth/annotate.ts';
import { renderScene } from '../src/synth/scene.ts';
import { annotationToPerson } from '../src/train/datasets.ts';
import { gradientTensors, OnnxRcnnTrainer } from '../src/train/onnx/onnx-trainer.ts';
import type { TrainSample } from '../src/train/sample.ts';
import { learningRate } from '../src/train/schedule.ts';
import { Sgd } from '../src/train/sgd.ts';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const file = arg('--config', 'configs/densepose_rcnn_R_18_cpu_tiny.json');
const iters = Number(arg('--iters', '200'));
const every = Number(arg('--every', '20'));
const [height, width] = arg('--size', '240x320').split('x').map(Number) as [number, number];
const mode = arg('--mode', 'end2end') as 'end2end' | 'head';

await initBackend();
const batches: TrainSample[][] = [0, 1, 2].map((k) =>
  [0, 1].map((index) => {
    const scene = renderScene({ width, height, seed: 9 + k, index, minPeople: 1, maxPeople: 3, poseSet: 'upright' });
    const anns = annotateScene(scene, { seed: index });
    return { image: scene.rgb, width, height, people: anns.map((a) => annotationToPerson(a as unknown as CocoAnnotation)), datasetIndex: 0, imageId: index, flipped: false };
  }),
);
seedInit(Number(arg('--seed', '1')));
const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(file), file);
const weights = arg('--weights', '');
if (weights) loadDetectron2(rcnn.model, weights);
if (process.argv.includes('--calibrate')) {
  const s0 = batches[0]![0]!;
  const prepared = preprocessImage(s0.image, s0.height, s0.width, { ...(rcnn.config.input ?? {}), resize: false });
  console.log(`FrozenBN calibrated: ${calibrateFrozenBatchNorm(rcnn.model.backbone, prepared.tensor)} layers`);
  prepared.tensor.dispose();
}
rcnn.model.train();
const schedule = { baseLr: Number(arg('--lr', '0.00125')), warmupIters: Number(arg('--warmup-iters', '1000')), warmupFactor: Number(arg('--warmup-factor', '0.1')) };
const lr = schedule.baseLr;
const activations = arg('--activations', 'keep') as 'keep' | 'recompute';
const trainer = new OnnxRcnnTrainer(rcnn, { mode, seed: 1 }, { threads: Number(arg('--threads', '0')) }, { activations });
const params = new Map(rcnn.model.namedParameters().filter(([, p]) => p.trainable).map(([n, p]) => [n, p.variable]));
const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4 });
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
let peak = 0;
const rss: number[] = [];
console.log(`${file}, ${mode}, batch 2 × ${width}×${height}, ${iters} steps, lr ${lr}, activations ${activations}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let it = 0; it < iters; it++) {
  const t0 = performance.now();
  const r = await trainer.gradients(batches[it % batches.length]!, it);
  const bad = [...r.grads].filter(([, g]) => !g.every(Number.isFinite)).map(([n]) => n);
  const badLoss = Object.entries(r.losses).filter(([, v]) => !Number.isFinite(v));
  if (bad.length || badLoss.length) {
    const badParams = [...params].filter(([, v]) => !(v.dataSync() as Float32Array).every(Number.isFinite)).map(([n]) => n);
    console.log(`step ${it}: non-finite losses [${badLoss.map(([k, v]) => `${k}=${v}`).join(', ')}]; gradients (${bad.length}): ${bad.slice(0, 8).join(', ')}; parameters (${badParams.length}): ${badParams.slice(0, 8).join(', ')}`);
    process.exitCode = 1;
    break;
  }
  const t = gradientTensors(rcnn.model, r.grads);
  sgd.step(params, t, learningRate(it, schedule));
  tf.dispose([...t.values()]);
  const s = (performance.now() - t0) / 1000;
  const m = process.memoryUsage().rss;
  peak = Math.max(peak, m);
  rss.push(m);
  if (it % every === 0 || it === iters - 1) {
    const parts = Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
    console.log(`step ${it}: ${s.toFixed(3)} s (${parts}); loss ${Object.values(r.losses).reduce((a, b) => a + b, 0).toFixed(4)} (${Object.entries(r.losses).map(([k, v]) => `${k.replace('loss_', '')} ${v.toPrecision(3)}`).join(' ')}); RSS ${mb(m)} MB, tfjs tensors ${tf.memory().numTensors}`);
  }
}
const q = Math.max(1, Math.floor(iters / 4));
const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(`RSS: peak ${mb(peak)} MB; mean of steps ${q}..${2 * q - 1}: ${mb(avg(rss.slice(q, 2 * q)))} MB, of the last ${q}: ${mb(avg(rss.slice(-q)))} MB`);
await trainer.dispose();
sgd.dispose();
rcnn.model.dispose();
