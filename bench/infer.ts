import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { createDensePose, type DensePose } from '../src/infer/densepose.ts';
import { saveModel } from '../src/infer/model-file.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { initBackend } from '../src/runtime/backend.ts';

const DEFAULT_MODEL = 'models/default.safetensors';

/**
 * End-to-end `estimate` throughput (decoded RGB in → people with IUV maps out) at 640×480 fed at its
 * own size (short side 480), on ONNX Runtime (CPU; batch 1 and 4) and on tfjs-wasm (batch 1).
 * Model: `models/default.safetensors` when present, else a random R18-small whose box head is biased
 * to find people (at most `--people` per image, so the DensePose head does realistic work).
 * Args: `--images N` (default 8) `--size 640x480` `--people 4` `--model FILE` `--skip-tfjs`.
 */
export async function run(args: string[]): Promise<void> {
  const get = (k: string) => {
    const i = args.indexOf(`--${k}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const count = Number(get('images') ?? 8);
  const [w, h] = (get('size') ?? '640x480').split('x').map(Number) as [number, number];
  const people = Number(get('people') ?? 4);
  await initBackend({ backend: 'wasm' });
  let model = get('model') ?? (existsSync(DEFAULT_MODEL) ? DEFAULT_MODEL : undefined);
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
  const images = Array.from({ length: count }, (_, k) => image(w, h, k + 1));
  console.log(`model: ${what}; ${count} images ${w}×${h} fed at short side ${Math.min(w, h)}; ≤ ${people} people/image; ${availableParallelism()} cores visible`);
  const rows: { name: string; ms: number; people: number }[] = [];
  const measure = async (name: string, dp: DensePose, batch: number) => {
    await dp.estimate(images[0]!, { maxPeople: people }); // warm-up
    let found = 0;
    const t0 = performance.now();
    for (let i = 0; i < images.length; i += batch) {
      const out = await dp.estimate(images.slice(i, i + batch), { maxPeople: people });
      for (const p of out) found += p.length;
    }
    rows.push({ name, ms: (performance.now() - t0) / images.length, people: found / images.length });
  };
  const common = { model, minSize: Math.min(w, h), maxSize: Math.max(w, h, 1333), scoreThreshold: 0.5 } as const;
  for (const batch of [1, 4]) {
    const dp = await createDensePose({ ...common, backend: 'onnx', batchSize: batch });
    await measure(`ONNX Runtime cpu, batch ${batch}`, dp, batch);
    await dp.dispose();
  }
  if (!args.includes('--skip-tfjs')) {
    const dp = await createDensePose({ ...common, backend: 'tfjs', tfjsBackend: 'wasm', batchSize: 1 });
    await measure('tfjs-wasm, batch 1', dp, 1);
    await dp.dispose();
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const base = rows[0]!.ms;
  console.log(['backend', 'ms/image', 'images/s', 'people/image', 'time vs ORT batch 1'].join(' | '));
  for (const r of rows) console.log([r.name, r.ms.toFixed(0), (1000 / r.ms).toFixed(2), r.people.toFixed(1), `${(r.ms / base).toFixed(2)}×`].join(' | '));
}

/** A deterministic 8-bit RGB test picture: gradient with a few upright blocks. */
function image(width: number, height: number, seed: number): { width: number; height: number; data: Uint8Array } {
  let s = seed;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([(x * 255) / width, (y * 255) / height, 90], 3 * (y * width + x));
  for (let k = 0; k < 3; k++) {
    const bw = Math.floor(width * (0.1 + 0.1 * rnd()));
    const bh = Math.floor(height * (0.4 + 0.4 * rnd()));
    const x0 = Math.floor(rnd() * (width - bw));
    const y0 = Math.floor(rnd() * (height - bh));
    const c = [rnd() * 255, rnd() * 255, rnd() * 255];
    for (let y = y0; y < y0 + bh; y++) for (let x = x0; x < x0 + bw; x++) data.set(c, 3 * (y * width + x));
  }
  return { width, height, data };
}
