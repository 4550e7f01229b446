// Whole-model gradient parity of the ONNX Runtime training engine against the tfjs reference, on one batch
// of two synthetic images, for configs too large for the test suite (issue #18): the bundled model's config
// and the R50-FPN zoo config, random weights. Prints per config: loss differences, the worst parameter
// gradients (max |ORT − tfjs| / max |tfjs| per tensor), and the largest weight difference after one SGD step.
//
//   npx tsx scripts/ortrain-parity.ts [--configs a.json,b.json] [--size 160x224] [--dp-rois 2] [--rois 128] [--mode end2end|head]
//        [--calibrate] (FrozenBN statistics from the first image, the init for random FrozenBN backbones: without it an
//        R50's activations reach ~1e5 and fp32 rounding, not the engines, dominates the gradient comparison)
//
// tfjs runs on its plain-JS 'cpu' backend: tfjs-wasm's 4 GB heap cannot hold an R50-FPN backward.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../src/runtime/gradients.ts';
import type { CocoAnnotation } from '../src/data/coco.ts';
import { calibrateFrozenBatchNorm } from '../src/model/calibrate-frozen-bn.ts';
import { preprocessImage } from '../src/model/preprocess.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig, type DensePoseRcnn } from '../src/model/densepose-rcnn.ts';
import { seedInit } from '../src/runtime/layers.ts';
import { relError } from '../src/runtime/onnx/test-helpers.ts';
import { annotateScene } from '../src/synth/annotate.ts';
import { renderScene } from '../src/synth/scene.ts';
import { annotationToPerson } from '../src/train/datasets.ts';
import { gradientTensors, OnnxRcnnTrainer } from '../src/train/onnx/onnx-trainer.ts';
import { rcnnTrainable, type RcnnTrainOptions } from '../src/train/rcnn-trainable.ts';
import type { TrainSample } from '../src/train/sample.ts';
import { Sgd } from '../src/train/sgd.ts';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const configs = arg('--configs', 'configs/densepose_rcnn_R_18_cpu_tiny.json,configs/densepose_rcnn_R_50_FPN_s1x.json').split(',');
const [height, width] = arg('--size', '160x224').split('x').map(Number) as [number, number];
const options: RcnnTrainOptions = { mode: arg('--mode', 'end2end') as 'end2end', seed: 3, maxDensePoseRois: Number(arg('--dp-rois', '2')), roiBatchSize: Number(arg('--rois', '128')) };

function batch(): TrainSample[] {
  return [0, 1].map((index) => {
    const scene = renderScene({ width, height, seed: 5, index, minPeople: 1, maxPeople: 2, poseSet: 'upright' });
    const anns = annotateScene(scene, { seed: index });
    return { image: scene.rgb, width, height, people: anns.map((a) => annotationToPerson(a as unknown as CocoAnnotation)), datasetIndex: 0, imageId: index, flipped: false };
  });
}

async function compare(file: string, samples: TrainSample[]): Promise<void> {
  seedInit(23);
  const rcnn: DensePoseRcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(file), file);
  if (process.argv.includes('--calibrate')) {
    const s0 = samples[0]!;
    const prepared = preprocessImage(s0.image, s0.height, s0.width, { ...(rcnn.config.input ?? {}), resize: false });
    calibrateFrozenBatchNorm(rcnn.model.backbone, prepared.tensor);
    prepared.tensor.dispose();
  }
  rcnn.model.train();
  const named = rcnn.model.namedParameters().filter(([, p]) => p.trainable);
  const nameOf = new Map(named.map(([n, p]) => [p.variable.name, n]));
  let t0 = performance.now();
  let terms: Record<string, tf.Scalar> = {};
  const tfj = rcnnTrainable(rcnn, options);
  const { value, grads } = tf.variableGrads(() => {
    terms = tfj.lossTerms(samples, 0);
    for (const t of Object.values(terms)) tf.keep(t);
    return tf.addN(Object.values(terms)) as tf.Scalar;
  }, named.map(([, p]) => p.variable));
  const refLosses = Object.fromEntries(Object.entries(terms).map(([k, t]) => [k, t.dataSync()[0]!]));
  const ref = new Map([...Object.entries(grads)].map(([v, g]) => [nameOf.get(v)!, g.dataSync() as Float32Array]));
  tf.dispose([value, ...Object.values(grads), ...Object.values(terms)]);
  const tfS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const trainer = new OnnxRcnnTrainer(rcnn, options);
  const got = await trainer.gradients(samples, 0);
  await trainer.dispose();
  const ortS = (performance.now() - t0) / 1000;

  const lossDiff = Object.entries(refLosses).map(([k, v]) => `${k} ${v.toExponential(4)} vs ${(got.losses[k] ?? NaN).toExponential(4)}`);
  const errs = [...ref].map(([n, g]) => [n, got.grads.has(n) ? relError(got.grads.get(n)!, g) : Infinity] as const).sort((a, b) => b[1] - a[1]);
  const missing = [...got.grads.keys()].filter((k) => !ref.has(k));
  // One SGD step from each engine's gradients.
  const before = new Map(rcnn.model.namedParameters().map(([n, p]) => [n, p.variable.dataSync().slice() as Float32Array]));
  const params = new Map(named.map(([n, p]) => [n, p.variable]));
  const step = (g: ReadonlyMap<string, Float32Array>) => {
    for (const [n, p] of rcnn.model.namedParameters()) p.assign(tf.tensor(before.get(n)!, p.shape));
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4 });
    const t = gradientTensors(rcnn.model, g);
    sgd.step(params, t, 0.02);
    tf.dispose([...t.values()]);
    sgd.dispose();
    return new Map([...params].map(([n, v]) => [n, v.dataSync().slice() as Float32Array]));
  };
  const a = step(ref);
  const b = step(got.grads);
  let maxDiff = 0;
  for (const [n, w] of a) for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i]! - b.get(n)![i]!));
  console.log(`\n### ${file} (${options.mode}, ${width}×${height}, ${named.length} trainable tensors; tfjs-cpu ${tfS.toFixed(1)} s, ORT ${ortS.toFixed(1)} s incl. graph build)`);
  console.log(`losses (tfjs vs ORT): ${lossDiff.join('; ')}`);
  console.log(`worst gradient rel. errors: ${errs.slice(0, 5).map(([n, e]) => `${n} ${e.toExponential(2)}`).join(', ')}`);
  console.log(`gradients within 1e-3: ${errs.filter(([, e]) => e < 1e-3).length}/${errs.length}${missing.length ? `; ORT-only gradients: ${missing.join(', ')}` : ''}`);
  console.log(`one SGD step (lr 0.02, momentum 0.9, wd 1e-4): max |Δweight| between engines ${maxDiff.toExponential(2)} (goal < 1e-4)`);
  rcnn.model.dispose();
}

await tf.setBackend('cpu');
const samples = batch();
for (const file of configs) await compare(file, samples);
