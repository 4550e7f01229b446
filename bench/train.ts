import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CocoAnnotation } from '../src/data/coco.ts';
import type { ModelConfig } from '../src/model/config.ts';
import { densePoseConfigFromJson } from '../src/model/densepose/config.ts';
import { FPN_LEVELS } from '../src/model/backbone/fpn.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig, type DensePoseRcnn } from '../src/model/densepose-rcnn.ts';
import { preprocessImage } from '../src/model/preprocess.ts';
import { initBackend, describeBackend } from '../src/runtime/backend.ts';
import { TfExecutor } from '../src/runtime/tf-executor.ts';
import { annotateScene } from '../src/synth/annotate.ts';
import { renderScene } from '../src/synth/scene.ts';
import { annotationToPerson } from '../src/train/datasets.ts';
import { rcnnTrainable } from '../src/train/rcnn-trainable.ts';
import type { TrainSample } from '../src/train/sample.ts';
import { Sgd } from '../src/train/sgd.ts';
import '../src/runtime/gradients.ts';
import { pythonWithTorch } from './python.ts';
import { gradientTensors, OnnxRcnnTrainer } from '../src/train/onnx/onnx-trainer.ts';
import type { BodyActivations } from '../src/train/onnx/stages.ts';

/**
 * `npm run bench -- train`: seconds per end-to-end training iteration (forward + backward + SGD step,
 * batch 2 synthetic 320×240 images with people) on tfjs, for the bundled half-width R18 (`cpu_tiny`) and
 * the full-width R18-FPN with the paper's efficient head (ASPP, 88×64 RoIs, STL); then the same
 * layer shapes in plain PyTorch (bench/train_peer.py, Debian's python3-torch) at 1 thread and all threads.
 *
 * Args: `--iters N` timed iterations (default 3), `--warmup N` (default 1), `--configs tiny,full`
 * (default tiny; full takes minutes: the peer alone needs ~1 min per iteration here), `--full-dp-rois N` DensePose RoIs per image for the full-width model (default 1: its
 * head costs ~0.2 TFLOP per RoI forward, so the trainer's 16 would take minutes per iteration here; the
 * peer uses the same count), `--no-peer`, `--no-breakdown`.
 * `--recompute`: also time ORT with the body backward recomputing the forward (vs keep-activations, the default).
 * `--vs detectron2`: the R50-FPN zoo config's step against detectron2's own (bench/train-d2.ts).
 */

interface BenchConfig {
  key: string;
  label: string;
  file: string;
  maxDensePoseRois: number;
}

/** What the peer needs to build the same layer shapes; counts of RoIs are the ones the tfjs run used. */
interface PeerSpec {
  name: string;
  image: [number, number];
  batch: number;
  iters: number;
  warmup: number;
  backbone: { stem: number; res2: number; norm: string; freezeAt: number };
  fpn: { out: number; norm: string };
  rpn: { anchorsPerLocation: number; batchPerImage: number; preNmsTopK: number };
  box: { fcDim: number; pooler: number; roisPerImage: number[]; numClasses: number };
  densepose: {
    inChannels: number;
    decoder: boolean;
    decoderConvDims: number;
    decoderNumClasses: number;
    pooler: [number, number];
    head: string;
    convHeadDim: number;
    numStackedConvs: number;
    asppRates: number[];
    asppNorm: string;
    imagePooling: boolean;
    upsample: string;
    stlFactor: number;
    stlKernel: number;
    upScale: number;
    coarseChannels: number;
    patches: number;
    roisPerImage: number[];
  };
}

interface PeerResult {
  threads: number;
  median_s: number;
  times_s: number[];
}

export const median = (a: readonly number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Two 320×240 synthetic scenes with 2–3 annotated people each, as the loader would hand them over (no augmentation). */
export function samples(): TrainSample[] {
  return [0, 1].map((index) => {
    const scene = renderScene({ width: 320, height: 240, seed: 7, index, minPeople: 2, maxPeople: 3, poseSet: 'upright' });
    const anns = annotateScene(scene, { seed: index });
    return {
      image: scene.rgb,
      width: scene.width,
      height: scene.height,
      people: anns.map((a) => annotationToPerson(a as unknown as CocoAnnotation)),
      datasetIndex: 0,
      imageId: index,
      flipped: false,
    };
  });
}

interface TfResult {
  times: number[];
  boxRois: number[];
  dpRois: number[];
  paddedSize: [number, number];
  breakdown?: string[];
  spec: PeerSpec;
}

async function benchTf(cfg: BenchConfig, batch: TrainSample[], iters: number, warmup: number, breakdown: boolean): Promise<TfResult> {
  const config = loadDensePoseRcnnConfig(cfg.file);
  const rcnn: DensePoseRcnn = buildDensePoseRcnn(config, cfg.file);
  const trainable = rcnnTrainable(rcnn, { mode: 'end2end', seed: 1, maxDensePoseRois: cfg.maxDensePoseRois });
  // Count the RoIs the trainer actually sends to each head, so the peer gets the same work.
  const boxCounts: number[] = [];
  const dpCounts: number[] = [];
  const rh = rcnn.model.roi_heads;
  const poolBoxes = rh.poolBoxes.bind(rh);
  rh.poolBoxes = (f, boxes) => (boxCounts.push(boxes.length / 4), poolBoxes(f, boxes));
  const dpForward = rcnn.densepose.forward.bind(rcnn.densepose);
  rcnn.densepose.forward = (ex, fpn, boxes) => (dpCounts.push(boxes.length / 4), dpForward(ex, fpn, boxes));

  const named = rcnn.model.namedParameters().filter(([, p]) => p.trainable);
  const params = new Map(named.map(([n, p]) => [n, p.variable]));
  const nameOfVar = new Map(named.map(([n, p]) => [p.variable.name, n]));
  const vars = named.map(([, p]) => p.variable);
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4 });
  // One step exactly as src/train/loop.ts does it (losses read back to the host, then the update).
  const step = (it: number) => {
    const { value, grads } = tf.variableGrads(() => tf.addN(Object.values(trainable.lossTerms(batch, it))) as tf.Scalar, vars);
    value.dataSync();
    value.dispose();
    const byName = new Map<string, tf.Tensor>();
    for (const [vn, g] of Object.entries(grads)) byName.set(nameOfVar.get(vn) ?? vn, g);
    sgd.step(params, byName, 1e-4);
    tf.dispose(grads);
  };
  for (let i = 0; i < warmup; i++) step(i);
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    boxCounts.length = 0;
    dpCounts.length = 0;
    const t0 = performance.now();
    step(warmup + i);
    times.push((performance.now() - t0) / 1000);
  }
  // Per image of the last timed iteration (the sampling is random per iteration, the counts barely move).
  const boxRois = batch.map((_, i) => boxCounts[i] ?? 0);
  const dpRois = batch.map((_, i) => dpCounts[i] ?? 0);
  const prepared = preprocessImage(batch[0]!.image, batch[0]!.height, batch[0]!.width, { ...(config.input ?? {}), resize: false });
  const paddedSize: [number, number] = [prepared.tensor.shape[1]!, prepared.tensor.shape[2]!];
  prepared.tensor.dispose();

  let lines: string[] | undefined;
  if (breakdown) lines = await phaseBreakdown(rcnn, batch, vars, () => step(warmup + iters));

  const spec = peerSpec(cfg, config, paddedSize, batch.length, iters, warmup, boxRois, dpRois);
  sgd.dispose();
  rcnn.model.dispose();
  return { times, boxRois, dpRois, paddedSize, breakdown: lines, spec };
}

function peerSpec(cfg: BenchConfig, config: ModelConfig, paddedSize: [number, number], batch: number, iters: number, warmup: number, boxRois: number[], dpRois: number[]): PeerSpec {
  const dp = densePoseConfigFromJson({ densepose: config.densepose ?? {} }, cfg.file);
  const bb = config.backbone ?? {};
  return {
    name: cfg.key,
    image: paddedSize,
    batch,
    iters,
    warmup,
    backbone: { stem: bb.stemOutChannels ?? 64, res2: bb.res2OutChannels ?? 64, norm: bb.norm ?? 'FrozenBN', freezeAt: bb.freezeAt ?? 2 },
    fpn: { out: config.fpn?.outChannels ?? 256, norm: config.fpn?.norm ?? '' },
    rpn: { anchorsPerLocation: (config.rpn?.aspectRatios ?? [0.5, 1, 2]).length, batchPerImage: 256, preNmsTopK: config.rpn?.train?.preNmsTopK ?? 2000 },
    box: { fcDim: config.roiHeads?.fcDim ?? 1024, pooler: config.roiHeads?.poolerResolution ?? 7, roisPerImage: boxRois, numClasses: config.roiHeads?.numClasses ?? 1 },
    densepose: {
      inChannels: dp.inChannels,
      decoder: dp.decoder,
      decoderConvDims: dp.decoderConvDims,
      decoderNumClasses: dp.decoderNumClasses,
      pooler: dp.poolerResolution,
      head: dp.head,
      convHeadDim: dp.convHeadDim,
      numStackedConvs: dp.numStackedConvs,
      asppRates: dp.aspp.rates,
      asppNorm: dp.aspp.norm,
      imagePooling: dp.aspp.imagePooling,
      upsample: dp.upsample,
      stlFactor: dp.stlFactor,
      stlKernel: dp.stlKernel,
      upScale: dp.upScale,
      coarseChannels: dp.numCoarseSegmChannels,
      patches: dp.numPatches,
      roisPerImage: dpRois,
    },
  };
}

/**
 * Where one iteration's time goes: backbone + FPN forward and backward on its own (a surrogate loss, the
 * mean of every FPN map), and tf.profile kernel totals of a whole step (the rest of the wall time is
 * host work: anchors, proposal selection, sampling, RoI bookkeeping, loss targets).
 */
async function phaseBreakdown(rcnn: DensePoseRcnn, batch: TrainSample[], vars: tf.Variable[], step: () => void): Promise<string[]> {
  const ex = new TfExecutor();
  const input = rcnn.config.input ?? {};
  const bbVars = vars.filter((v) => !v.name.includes('roi_heads') && !v.name.includes('proposal_generator'));
  const backbone = () => {
    const { value, grads } = tf.variableGrads(() => {
      const terms = batch.map((s) => {
        const prepared = preprocessImage(s.image, s.height, s.width, { ...input, resize: false });
        const feats = rcnn.model.backbone.forward<tf.Tensor>(ex, prepared.tensor);
        return tf.addN(FPN_LEVELS.map((l) => tf.mean(feats[l]!))) as tf.Scalar;
      });
      return tf.addN(terms) as tf.Scalar;
    }, bbVars);
    value.dataSync();
    value.dispose();
    tf.dispose(grads);
  };
  backbone();
  let t0 = performance.now();
  backbone();
  const backboneS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const info = await tf.profile(step);
  const wallS = (performance.now() - t0) / 1000;
  const byKernel = new Map<string, number>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    kernelMs += ms;
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
  }
  const out = [`backbone + FPN fwd+bwd (batch ${batch.length}, surrogate loss): ${backboneS.toFixed(2)} s`];
  if (kernelMs > 0) {
    const top = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 6);
    out.push(
      `profiled step: ${wallS.toFixed(2)} s wall (profiling adds overhead), kernels ${(kernelMs / 1000).toFixed(2)} s, host/other ${(wallS - kernelMs / 1000).toFixed(2)} s; ` +
        `heads + losses + SGD ≈ kernels − backbone = ${(kernelMs / 1000 - backboneS).toFixed(2)} s`,
    );
    out.push(`top kernels: ${top.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(2)} s`).join(', ')}`);
  } else {
    out.push(`profiled step: ${wallS.toFixed(2)} s wall; this backend reports no kernel times`);
  }
  return out;
}

interface OrtResult {
  threads: number;
  times: number[];
  /** Median seconds per part of the step (ORT runs per stage, host work, SGD). */
  parts: Record<string, number>;
}

/** The ONNX Runtime engine: the same step as src/train/loop.ts with `engine: 'onnx'` (staged ORT graphs + tfjs SGD). */
async function benchOrt(cfg: BenchConfig, batch: TrainSample[], iters: number, warmup: number, threads: number, activations: BodyActivations = 'keep'): Promise<OrtResult> {
  const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(cfg.file), cfg.file);
  rcnn.model.train();
  const trainer = new OnnxRcnnTrainer(rcnn, { mode: 'end2end', seed: 1, maxDensePoseRois: cfg.maxDensePoseRois }, { threads }, { activations });
  const named = rcnn.model.namedParameters().filter(([, p]) => p.trainable);
  const params = new Map(named.map(([n, p]) => [n, p.variable]));
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4 });
  const partsPerIter: Record<string, number>[] = [];
  const step = async (it: number) => {
    const r = await trainer.gradients(batch, it);
    const t0 = performance.now();
    const byName = gradientTensors(rcnn.model, r.grads);
    sgd.step(params, byName, 1e-4);
    tf.dispose([...byName.values()]);
    partsPerIter.push({ ...r.timings, sgd: (performance.now() - t0) / 1000 });
  };
  for (let i = 0; i < warmup; i++) await step(i);
  partsPerIter.length = 0;
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await step(warmup + i);
    times.push((performance.now() - t0) / 1000);
  }
  const parts: Record<string, number> = {};
  for (const k of Object.keys(partsPerIter[0] ?? {})) parts[k] = median(partsPerIter.map((p) => p[k] ?? 0));
  await trainer.dispose();
  sgd.dispose();
  rcnn.model.dispose();
  return { threads, times, parts };
}

function runPeer(py: string, spec: PeerSpec, threads: 'one' | 'all'): PeerResult | string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
  try {
    const file = join(dir, 'spec.json');
    writeFileSync(file, JSON.stringify(spec));
    const script = fileURLToPath(new URL('./train_peer.py', import.meta.url));
    const out = execFileSync(py, [script, file, '--threads', threads], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 });
    const last = out.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as PeerResult;
  } catch (e) {
    return `peer failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const vs = args.indexOf('--vs');
  if (vs >= 0) {
    if (args[vs + 1] !== 'detectron2') throw new Error(`bench train --vs: unknown peer "${args[vs + 1]}". Expected one of: detectron2.`);
    const { runVsDetectron2 } = await import('./train-d2.ts');
    return runVsDetectron2(args);
  }
  const num = (name: string, d: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const iters = num('--iters', 3);
  const warmup = num('--warmup', 1);
  const fullDp = num('--full-dp-rois', 1);
  const ci = args.indexOf('--configs');
  const wanted = (ci >= 0 ? (args[ci + 1] ?? '') : 'tiny').split(',');
  const all: BenchConfig[] = [
    { key: 'tiny', label: 'R18 cpu_tiny (half width, GN, ASPP+STL 22×16, ≤16 DP RoIs/img)', file: 'configs/densepose_rcnn_R_18_cpu_tiny.json', maxDensePoseRois: 16 },
    {
      key: 'full',
      label: `R18-FPN full width + ASPP 88×64 STL head (≤${fullDp} DP RoIs/img)`,
      file: 'configs/densepose/r18_fpn_rcnn_head_aspp_88x64_stl.json',
      maxDensePoseRois: fullDp,
    },
  ];
  const configs = all.filter((c) => wanted.includes(c.key));
  const backend = await initBackend();
  const py = args.includes('--no-peer') ? null : pythonWithTorch();
  const batch = samples();
  console.log(
    `${describeBackend(backend)}; batch ${batch.length} synthetic 320×240 images (${batch.map((s) => s.people.length).join(' + ')} people), end2end mode; ` +
      `median of ${iters} iterations after ${warmup} warm-up; one iteration = forward + backward + SGD step (momentum, weight decay) as src/train/loop.ts.`,
  );
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const cfg of configs) {
    let r: TfResult;
    let tfCell: string;
    try {
      r = await benchTf(cfg, batch, iters, warmup, !args.includes('--no-breakdown'));
      tfCell = median(r.times).toFixed(2);
    } catch (e) {
      // A wasm abort (heap exhausted) kills the backend: report it, still time the peer, run nothing after it on tfjs.
      const message = (e as Error).message.split('\n')[0] ?? String(e);
      tfCell = `failed (${message})`;
      const dpRois = batch.map((s) => Math.min(s.people.length, cfg.maxDensePoseRois));
      const spec = peerSpec(cfg, loadDensePoseRcnnConfig(cfg.file), [256, 320], batch.length, iters, warmup, batch.map(() => 128), dpRois);
      r = { times: [], boxRois: spec.box.roisPerImage, dpRois, paddedSize: [256, 320], spec };
      notes.push(`${cfg.key}: tfjs-${backend.backend} failed: ${message} (a wasm abort while allocating a tensor: most likely the 4 GB wasm heap, which one training step of the full-width R18 with the 512-channel 88×64 head exceeds); peer given the trainer's nominal RoI counts`);
    }
    const tfS = r.times.length ? median(r.times) : NaN;
    const ort1 = await benchOrt(cfg, batch, iters, warmup, 1);
    const ortAll = await benchOrt(cfg, batch, iters, warmup, 0);
    if (args.includes('--recompute')) {
      const re = await benchOrt(cfg, batch, iters, warmup, 1, 'recompute');
      notes.push(
        `${cfg.key}: ORT (1 thread) body backward recomputing the forward: ${median(re.times).toFixed(3)} s/iter vs keep-activations ${median(ort1.times).toFixed(3)} s ` +
          `(recompute / keep ${(median(re.times) / median(ort1.times)).toFixed(2)}×); body backward ${(re.parts.ort_body_backward ?? NaN).toFixed(3)} s vs ${(ort1.parts.ort_body_backward ?? NaN).toFixed(3)} s, body forward ${(re.parts.ort_body_forward ?? NaN).toFixed(3)} s vs ${(ort1.parts.ort_body_forward ?? NaN).toFixed(3)} s`,
      );
    }
    for (const o of [ort1, ortAll]) {
      notes.push(
        `${cfg.key}: ORT (${o.threads === 1 ? '1 thread' : 'all threads'}) per-iteration s [${o.times.map((t) => t.toFixed(3)).join(', ')}]; median per part: ` +
          Object.entries(o.parts).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '),
      );
    }
    if (r.times.length) notes.push(`${cfg.key}: tfjs per-iteration s [${r.times.map((t) => t.toFixed(2)).join(', ')}]; input ${r.paddedSize.join('×')} (padded), box RoIs per image [${r.boxRois.join(', ')}], DensePose RoIs per image [${r.dpRois.join(', ')}]`);
    for (const l of r.breakdown ?? []) notes.push(`${cfg.key}: ${l}`);
    let one: PeerResult | string = 'no python with torch';
    let allT: PeerResult | string = 'no python with torch';
    if (py) {
      one = runPeer(py, r.spec, 'one');
      allT = runPeer(py, r.spec, 'all');
    }
    const fmt = (p: PeerResult | string) => (typeof p === 'string' ? p : `${p.median_s.toFixed(2)} (${p.threads} thr)`);
    const o1 = median(ort1.times);
    const oAll = median(ortAll.times);
    const vsPeer = (o: number, p: PeerResult | string) => (typeof p === 'string' ? '-' : `${(o / p.median_s).toFixed(2)}×`);
    rows.push([cfg.label, tfCell, o1.toFixed(3), oAll.toFixed(3), Number.isFinite(tfS) ? `${(tfS / o1).toFixed(1)}×` : '-', fmt(one), fmt(allT), vsPeer(o1, one), vsPeer(oAll, allT)]);
  }
  const header = [
    `config`,
    `tfjs-${backend.backend} s/iter`,
    'ORT s/iter (1 thread)',
    'ORT s/iter (all threads)',
    'tfjs / ORT 1 thr',
    'PyTorch s/iter (1 thread)',
    'PyTorch s/iter (all threads)',
    'ORT / PyTorch 1 thr',
    'ORT / PyTorch all',
  ];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(
    'Peer (bench/train_peer.py): the same layer shapes in plain torch.nn (ResNet-18 widths, FPN, RPN head, box head FCs, DensePose decoder/head/predictor), ' +
      'the same RoI counts and image size, RoIAlign as grid_sample + average pooling, simple loss sum, torch.optim.SGD. Not detectron2: no NMS, no anchor matching ' +
      '(random anchor/RoI sampling stands in), so its host work is smaller than ours. Goals (issue 18): tfjs / ORT ≥ 4×, ORT / PyTorch ≤ 1.5× at the same thread count.',
  );
  for (const n of notes) console.log(`- ${n}`);
}
