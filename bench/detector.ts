import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createDensePose, type InferBackend } from '../src/infer/densepose.ts';
import { StepTimes } from '../src/infer/profile.ts';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../src/model/densepose-rcnn.ts';
import { roiAlign, roiAlignOps } from '../src/model/roi-align-tf.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { pythonWithTorch } from './python.ts';

/**
 * Person detector timings at 800×1067 (padded 800×1088), random weights, median of N after a warm-up,
 * through the one pipeline (`createDensePose(...).detect` on the built model, tfjs-wasm and ONNX Runtime CPU):
 * the body stage (backbone+FPN+RPN head, from the step profile) and the full detector (preprocessing, RPN
 * proposals, RoIAlign, box head, NMS) for R18 and R50, plus torchvision's Faster R-CNN on PyTorch when
 * `python3 -c "import torch, torchvision"` works (the detectron2 peer's stand-in: same ResNet-FPN/RPN/RoI design).
 * Also RoIAlign: typed-array kernel vs tfjs-ops variant, forward and forward+backward.
 * Args: `--models r18,r50` `--runs 3` `--size 800x1067` `--skip-tfjs` `--skip-roi`.
 */
export async function run(args: string[]): Promise<void> {
  const opt = parseArgs(args);
  const backend = await initBackend({ backend: 'wasm' });
  const hp = Math.ceil(opt.h / 32) * 32;
  const wp = Math.ceil(opt.w / 32) * 32;
  console.log(`image ${opt.h}×${opt.w} (padded ${hp}×${wp}), median of ${opt.runs} after 1 warm-up; ${availableParallelism()} cores visible; tfjs ${backend.backend} ${backend.threads} thread(s) simd ${String(backend.simd)}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const torch = opt.models.map((m) => torchTimes(m, opt));
  const rows: string[][] = [['model', 'stage', 'tfjs-wasm ms', 'ORT ms', 'PyTorch ms', 'wasm / ORT', 'PyTorch / ORT']];
  // a random RGB image at the model-input size (no resize: minSize = its short side)
  const image = { width: opt.w, height: opt.h, data: Uint8Array.from({ length: opt.w * opt.h * 3 }, (_, i) => (i * 2654435761) >>> 24) };
  for (const [i, name] of opt.models.entries()) {
    const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(`configs/densepose_rcnn_${name === 'r18' ? 'R_18' : 'R_50'}_FPN_s1x.json`));
    const time = async (engine: InferBackend): Promise<{ body: number; full: number }> => {
      const dp = await createDensePose({ model: rcnn, backend: engine, minSize: Math.min(opt.h, opt.w), maxSize: Math.max(opt.h, opt.w, 1333), preprocess: 'float' });
      try {
        const steps = new StepTimes();
        const full = await median(opt.runs, async () => {
          await dp.detect([image], { profile: steps });
        });
        return { body: steps.steps.get('stage body')!.ms / (opt.runs + 1), full };
      } finally {
        await dp.dispose();
      }
    };
    const wasm = opt.skipTfjs ? { body: NaN, full: NaN } : await time('tfjs');
    const ort = await time('onnx');
    rcnn.model.dispose();
    const t = torch[i]!;
    rows.push([name.toUpperCase() + '-FPN', 'body (backbone+FPN+RPN head)', fmt(wasm.body), fmt(ort.body), fmt(t?.body ?? NaN), fmt(wasm.body / ort.body, 2), fmt((t?.body ?? NaN) / ort.body, 2)]);
    rows.push([name.toUpperCase() + '-FPN', 'full detector', fmt(wasm.full), fmt(ort.full), fmt(t?.full ?? NaN), fmt(wasm.full / ort.full, 2), fmt((t?.full ?? NaN) / ort.full, 2)]);
  }
  printTable(rows);
  if (torch.every((t) => t === undefined)) console.log('PyTorch: not measured (python3 with torch + torchvision not found)');
  if (!opt.skipRoi) await roiBench(opt.runs);
}

/** RoIAlign on an FPN-like p2 map: typed arrays + customGrad vs tfjs gather ops, forward and with gradient. */
async function roiBench(runs: number): Promise<void> {
  const feat = tf.randomNormal([1, 200, 272, 256], 0, 1, 'float32', 3) as tf.Tensor4D;
  const rows: string[][] = [['RoIAlign case', 'arrays ms', 'tfjs ops ms', 'ops / arrays']];
  for (const [label, k, size] of [['1000 boxes 7×7 sr2 C256 (box head)', 1000, [7, 7]], ['100 boxes 7×7 sr2 C256', 100, [7, 7]], ['8 boxes 88×64 sr2 C256 (DensePose RoI)', 8, [88, 64]]] as const) {
    const boxes = new Float32Array(k * 4);
    for (let i = 0; i < k; i++) {
      const x = (i * 37) % 900;
      const y = (i * 53) % 700;
      boxes.set([x, y, x + 40 + (i % 150), y + 60 + (i % 90)], 4 * i);
    }
    const o = { outputSize: size, spatialScale: 0.25, samplingRatio: 2, aligned: false };
    for (const withGrad of [false, true]) {
      const time = (f: typeof roiAlign) =>
        median(runs, () => {
          // Block bodies: a typed array returned from tf.tidy gets walked element by element.
          tf.tidy(() => {
            if (withGrad) tf.grad((x: tf.Tensor) => tf.sum(f(x as tf.Tensor4D, boxes, o)))(feat).dataSync();
            else f(feat, boxes, o).dataSync();
          });
        });
      const a = await time(roiAlign);
      // The ops variant materialises [cells, taps, C] (taps = 4 per sample): skip it where that passes 512 MB.
      const opsBytes = k * size[0] * size[1] * 4 * o.samplingRatio ** 2 * 256 * 4 * (withGrad ? 3 : 2);
      let note = '';
      let b = NaN;
      if (opsBytes > 512 * 2 ** 20) note = `skipped (~${(opsBytes / 2 ** 20).toFixed(0)} MB)`;
      // tfjs's gather gradient (unsortedSegmentSum) builds a one-hot [taps, H·W] matrix on wasm: hopeless at FPN sizes.
      else if (withGrad && tf.getBackend() === 'wasm') note = 'n/a (gather grad = one-hot [taps, H·W] on wasm)';
      else b = await time(roiAlignOps);
      rows.push([`${label}${withGrad ? ' fwd+bwd' : ' fwd'}`, fmt(a), note || fmt(b), fmt(b / a, 2)]);
    }
  }
  feat.dispose();
  printTable(rows);
}

const TORCH_SCRIPT = `
import sys, time, statistics, torch, torchvision
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
torch.set_grad_enabled(False)
arch, h, w, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
bb = resnet_fpn_backbone(backbone_name=arch, weights=None, trainable_layers=0).eval()
m = FasterRCNN(bb, num_classes=2, min_size=h, max_size=1333, box_detections_per_img=100).eval()
hp, wp = (h + 31) // 32 * 32, (w + 31) // 32 * 32
x = torch.randn(1, 3, hp, wp)
img = [torch.rand(3, h, w) * 255]
def med(f):
    f(); ts = []
    for _ in range(runs):
        t = time.perf_counter(); f(); ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts)
print(med(lambda: bb(x)), med(lambda: m(img)))
`;

/** torchvision Faster R-CNN timings in a child python3, or undefined where torch is absent. */
function torchTimes(model: string, opt: Options): { body: number; full: number } | undefined {
  const py = pythonWithTorch();
  if (!py) return undefined;
  try {
    const out = execFileSync(py, ['-c', TORCH_SCRIPT, model === 'r18' ? 'resnet18' : 'resnet50', String(opt.h), String(opt.w), String(opt.runs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 600_000 });
    const [body, full] = out.trim().split(/\s+/).map(Number);
    return body !== undefined && full !== undefined && Number.isFinite(body) && Number.isFinite(full) ? { body, full } : undefined;
  } catch {
    return undefined;
  }
}

interface Options {
  models: string[];
  runs: number;
  h: number;
  w: number;
  skipTfjs: boolean;
  skipRoi: boolean;
}

function parseArgs(args: string[]): Options {
  const o: Options = { models: ['r18', 'r50'], runs: 3, h: 800, w: 1067, skipTfjs: false, skipRoi: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--models') o.models = args[++i]!.split(',').filter((m) => m === 'r18' || m === 'r50');
    else if (a === '--runs') o.runs = Math.max(1, Number(args[++i]));
    else if (a === '--size') [o.h, o.w] = args[++i]!.split('x').map(Number) as [number, number];
    else if (a === '--skip-tfjs') o.skipTfjs = true;
    else if (a === '--skip-roi') o.skipRoi = true;
    else throw new Error(`bench detector: unknown argument "${a}". Expected: --models r18,r50 --runs N --size HxW --skip-tfjs --skip-roi`);
  }
  return o;
}

async function median(runs: number, f: () => void | Promise<void>): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

function fmt(v: number, digits = 0): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
}
