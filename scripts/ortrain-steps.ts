// Training steps of the ONNX Runtime engine on synthetic batches: seconds per step with the per-stage
// breakdown, and resident memory per step (issue #18: no RSS growth over 200 iterations; the R50-FPN
// zoo config at batch 2, 240×320 within 24 GB). Each step = gradients + the SGD update as the loop does it.
//
//   npx tsx scripts/ortrain-steps.ts [--config configs/densepose_rcnn_R_50_FPN_s1x.json] [--iters 200]
//        [--size 240x320] [--mode end2end|head] [--threads 0] [--every 20]
import * as tf from '@tensorflow/tfjs-core';
import type { CocoAnnotation } from '../src/data/coco.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { annotateScene } from '../src/synth/annotate.ts';
import { renderScene } from '../src/synth/scene.ts';
import { annotationToPerson } from '../src/train/datasets.ts';
import { gradientTensors, OnnxRcnnTrainer } from '../src/train/onnx/onnx-trainer.ts';
import type { TrainSample } from '../src/train/sample.ts';
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
const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(file), file);
rcnn.model.train();
const trainer = new OnnxRcnnTrainer(rcnn, { mode, seed: 1 }, { threads: Number(arg('--threads', '0')) });
const params = new Map(rcnn.model.namedParameters().filter(([, p]) => p.trainable).map(([n, p]) => [n, p.variable]));
const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4 });
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
let peak = 0;
const rss: number[] = [];
console.log(`${file}, ${mode}, batch 2 × ${width}×${height}, ${iters} steps`);
for (let it = 0; it < iters; it++) {
  const t0 = performance.now();
  const r = await trainer.gradients(batches[it % batches.length]!, it);
  const t = gradientTensors(rcnn.model, r.grads);
  sgd.step(params, t, 1e-3);
  tf.dispose([...t.values()]);
  const s = (performance.now() - t0) / 1000;
  const m = process.memoryUsage().rss;
  peak = Math.max(peak, m);
  rss.push(m);
  if (it % every === 0 || it === iters - 1) {
    const parts = Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
    console.log(`step ${it}: ${s.toFixed(3)} s (${parts}); loss ${Object.values(r.losses).reduce((a, b) => a + b, 0).toFixed(4)}; RSS ${mb(m)} MB, tfjs tensors ${tf.memory().numTensors}`);
  }
}
const q = Math.max(1, Math.floor(iters / 4));
const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(`RSS: peak ${mb(peak)} MB; mean of steps ${q}..${2 * q - 1}: ${mb(avg(rss.slice(q, 2 * q)))} MB, of the last ${q}: ${mb(avg(rss.slice(-q)))} MB`);
await trainer.dispose();
sgd.dispose();
rcnn.model.dispose();
