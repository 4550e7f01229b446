// Peak tfjs memory of the tfjs fallback on a zoo-size model: R50-FPN (random weights) at 800×1333 through
// `createDensePose({ backend: 'tfjs' })`, every stage freeing its intermediates layer by layer. Baseline in
// the same run: the body stage as one `tf.tidy` (what the runner did before), at a size that still fits;
// live tfjs bytes sampled after every op (tf.profile's snapshots miss them on wasm).
// `npm run bench -- tfjs-memory [--config configs/densepose_rcnn_R_50_FPN_s1x.json] [--size 800x1333] [--tidy-size 480x800]`
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { createDensePose } from '../src/infer/densepose.ts';
import { stageDefinitions } from '../src/infer/stages.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { executorWithHook, planUses, runFreeing } from '../src/infer/tfjs-liveness.ts';

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

/** The wasm module's linear memory (what the 4 GB limit is about), where the backend exposes it. */
function wasmHeap(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.length ?? NaN;
}

export async function run(args: string[]): Promise<void> {
  const config = arg(args, 'config', 'configs/densepose_rcnn_R_50_FPN_s1x.json');
  const [h, w] = arg(args, 'size', '800x1333').split('x').map(Number) as [number, number];
  const [th, tw] = arg(args, 'tidy-size', '480x800').split('x').map(Number) as [number, number];
  await initBackend({ backend: 'wasm' });
  const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(config));
  const weights = tf.memory().numBytes;
  const image = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 2654435761) >>> 24) };
  const dp = await createDensePose({ model: rcnn, backend: 'tfjs', minSize: Math.min(h, w), maxSize: Math.max(h, w), preprocess: 'float' });
  const t0 = performance.now();
  let people = 0;
  const info = await tf.profile(async () => {
    people = (await dp.estimate(image)).length;
  });
  const seconds = (performance.now() - t0) / 1000;
  await dp.dispose();
  console.log(`${config} on tfjs-wasm, random weights (${mb(weights)} of weights)`);
  console.log(`| run | image | peak tfjs bytes (tf.profile) | wasm heap after (limit 4096 MB) | s |\n|---|---|---|---|---|`);
  console.log(`| createDensePose backend tfjs, estimate (${people} people) | ${h}×${w} | ${mb(info.peakBytes)} | ${mb(wasmHeap())} | ${seconds.toFixed(1)} |`);
  // the body stage alone, live tfjs bytes sampled after every op: freed layer by layer (the runner) vs one tf.tidy (before)
  const d = stageDefinitions(rcnn).body;
  const forward = d.forward.bind(d);
  const plan = planUses(forward, 1);
  const base = tf.memory().numBytes;
  const bodyPeak = (hh: number, ww: number, oneTidy: boolean): number => {
    const shape = [1, Math.ceil(hh / 32) * 32, Math.ceil(ww / 32) * 32, 3];
    let peak = 0;
    const sample = () => (peak = Math.max(peak, tf.memory().numBytes - base));
    if (oneTidy) {
      const sampling = executorWithHook(sample);
      tf.dispose(tf.tidy(() => forward<tf.Tensor>(sampling, [tf.randomNormal(shape)])));
    } else tf.dispose(runFreeing(forward, plan, [tf.randomNormal(shape)], sample));
    return peak;
  };
  console.log(`\n| body stage | image | peak live activations |\n|---|---|---|`);
  console.log(`| freed layer by layer (tfjs runner) | ${h}×${w} | ${mb(bodyPeak(h, w, false))} |`);
  console.log(`| freed layer by layer (tfjs runner) | ${th}×${tw} | ${mb(bodyPeak(th, tw, false))} |`);
  console.log(`| one tf.tidy (before) | ${th}×${tw} | ${mb(bodyPeak(th, tw, true))} |`);
  console.log(`\nload average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  rcnn.model.dispose();
}
