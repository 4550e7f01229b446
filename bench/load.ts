// Model load time: `createDensePose` on a model directory (ONNX Runtime alone; its ORT-optimized stage graphs
// cached after the first load, and without that cache), on a `.safetensors`
// file whose export is cached (fingerprint + the same), and the in-memory export at every load
// (`cache: false`: tfjs build + ONNX export + sessions, what every load cost before the cache) as the
// same-run baseline. Random weights of a zoo config (default R50-FPN, the detectron2 reference loads
// its R50 in 0.7 s). `npm run bench -- load [--config configs/densepose_rcnn_R_50_FPN_s1x.json] [--runs 3] [--skip-export]`.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDensePose } from '../src/infer/densepose.ts';
import { cachedModelDir } from '../src/infer/model-cache.ts';
import { saveModel } from '../src/infer/model-file.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { initBackend } from '../src/runtime/backend.ts';

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

async function timeLoad(model: string, extra: { cache?: string | false }): Promise<number> {
  const t0 = performance.now();
  // createDensePose's own work only: its dynamic imports are loaded by the first (untimed) load
  const dp = await createDensePose({ model, threads: 0, ...extra });
  const ms = performance.now() - t0;
  await dp.dispose();
  return ms;
}

export async function run(args: string[]): Promise<void> {
  const configPath = arg(args, 'config', 'configs/densepose_rcnn_R_50_FPN_s1x.json');
  const runs = Number(arg(args, 'runs', '3'));
  const dir = mkdtempSync(join(tmpdir(), 'dp-bench-load-'));
  try {
    await initBackend({ backend: 'cpu' });
    const file = join(dir, 'model.safetensors');
    const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(configPath));
    await saveModel(file, rcnn);
    rcnn.model.dispose();
    const cache = join(dir, 'cache');
    const t0 = performance.now();
    const { dir: modelDir } = await cachedModelDir(file, { cacheDir: cache });
    const exportMs = performance.now() - t0;
    console.log(`model ${configPath}: ${(statSync(file).size / 2 ** 20).toFixed(0)} MB safetensors; first export ${(exportMs / 1000).toFixed(1)} s (once per model file)`);
    // first load of the directory: ONNX Runtime optimizes each stage once and the cache keeps its ORT-format graph
    const t1 = performance.now();
    await (await createDensePose({ model: modelDir, cache })).dispose();
    console.log(`first load of the model directory (optimizes and caches the stage graphs): ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    const rows: [string, number[]][] = [
      ['model directory, optimized graphs cached', []],
      ['.safetensors, cached export + optimized graphs', []],
      ['model directory, cache: false (ORT parses and optimizes)', []],
      ['.safetensors, cache: false (export at load)', []],
    ];
    for (let r = 0; r < runs; r++) {
      rows[0]![1].push(await timeLoad(modelDir, { cache }));
      rows[1]![1].push(await timeLoad(file, { cache }));
      rows[2]![1].push(await timeLoad(modelDir, { cache: false }));
      if (!args.includes('--skip-export')) rows[3]![1].push(await timeLoad(file, { cache: false }));
    }
    if (rows[3]![1].length === 0) rows.pop();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const base = median(rows[2]![1]);
    console.log(`\n| load | median of ${runs} (s) | ÷ directory without cache |\n|---|---|---|`);
    for (const [name, xs] of rows) console.log(`| ${name} | ${(median(xs) / 1000).toFixed(2)} | ${(median(xs) / base).toFixed(2)} |`);
    console.log(`\nload average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
