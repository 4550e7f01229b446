import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { DensePoseBranch } from '../src/model/densepose/branch.ts';
import { type DensePoseHeadConfig, densePoseConfigFromJson, resolveDensePoseConfig } from '../src/model/densepose/config.ts';
import { densePoseFlops } from '../src/model/densepose/flops.ts';
import { exportStage } from '../src/infer/export-stages.ts';
import { densePoseStage } from '../src/infer/stages.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { createSession } from '../src/runtime/onnx/session.ts';
import { TfExecutor } from '../src/runtime/tf-executor.ts';

/**
 * Per-box DensePose head time (head body + predictor on pooled RoIs, random weights) for each ablation
 * config and detectron2's default head, on tfjs (wasm unless DENSEPOSE_BACKEND says otherwise) and ONNX
 * Runtime CPU; parameters and FLOPs per config. Args: `--boxes N` (default 2), `--reps N` (default 2),
 * `--only NAME` (config name substring).
 */
export async function run(args: string[]): Promise<void> {
  const arg = (name: string, d: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const boxes = arg('--boxes', 2);
  const reps = arg('--reps', 2);
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
  const backend = await initBackend();
  const ex = new TfExecutor();
  const configs: [string, DensePoseHeadConfig][] = [['detectron2_default (28×28 → 112×112)', resolveDensePoseConfig({ preset: 'detectron2' })]];
  for (const f of ['r18_fpn_rcnn_head', 'r18_fpn_rcnn_head_aspp', 'r18_fpn_rcnn_head_aspp_88x64', 'r18_fpn_rcnn_head_aspp_88x64_stl']) {
    configs.push([f, densePoseConfigFromJson(JSON.parse(readFileSync(new URL(`../configs/densepose/${f}.json`, import.meta.url), 'utf8')), f)]);
  }
  const rows: string[][] = [];
  let baseTf = 0;
  let baseOrt = 0;
  for (const [name, cfg] of configs) {
    if (only && !name.includes(only)) continue;
    const branch = new DensePoseBranch(cfg);
    const [h, w] = cfg.poolerResolution;
    const inC = cfg.decoder ? cfg.decoderNumClasses : cfg.inChannels;
    const x = tf.randomNormal([boxes, h, w, inC]);
    const timeTf = async () => {
      const t0 = performance.now();
      const out = tf.tidy(() => Object.values(branch.forwardHead(ex, x)));
      await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
      return performance.now() - t0;
    };
    await timeTf();
    const tfTimes: number[] = [];
    for (let r = 0; r < reps; r++) tfTimes.push(await timeTf());
    const session = await createSession(exportStage(branch, densePoseStage(branch)));
    const feed = { pooled: { data: x.dataSync() as Float32Array, shape: x.shape } };
    await session.run(feed);
    const ortTimes: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await session.run(feed);
      ortTimes.push(performance.now() - t0);
    }
    await session.dispose();
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
    const tfBox = med(tfTimes) / boxes;
    const ortBox = med(ortTimes) / boxes;
    if (rows.length === 0) {
      baseTf = tfBox;
      baseOrt = ortBox;
    }
    const params = branch.head.parameterCount() + branch.predictor.parameterCount();
    const flops = densePoseFlops(cfg);
    const out = branch.outputSize;
    rows.push([
      name,
      `${h}×${w}→${out[0]}×${out[1]}`,
      (params / 1e6).toFixed(2),
      (branch.decoder?.parameterCount() ?? 0) === 0 ? '-' : ((branch.decoder?.parameterCount() ?? 0) / 1e6).toFixed(2),
      (flops.headPerBox / 1e9).toFixed(2),
      flops.decoderPerImage ? (flops.decoderPerImage / 1e9).toFixed(1) : '-',
      tfBox.toFixed(0),
      (tfBox / baseTf).toFixed(2),
      ortBox.toFixed(0),
      (ortBox / baseOrt).toFixed(2),
    ]);
    x.dispose();
    branch.dispose();
  }
  const header = ['config', 'RoI→out', 'head Mparams', 'decoder Mparams', 'head GFLOPs/box', 'decoder GFLOPs/img (800×1088)', `tfjs-${backend.backend} ms/box`, '× first', 'ORT ms/box', '× first'];
  console.log(`boxes per call ${boxes}, median of ${reps}; peer: detectron2 default head on PyTorch CPU 0.14 s/box (DESIGN §9)`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}
