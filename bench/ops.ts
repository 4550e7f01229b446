import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/runtime/backend.ts';
import type { Conv2dOptions } from '../src/runtime/executor.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput } from '../src/runtime/ops/conv.ts';
import { TfExecutor } from '../src/runtime/tf-executor.ts';
import { pythonWithTorch } from './python.ts';
// Type-only: the bench loads these at run time only when the files exist (other owners' modules).
import type * as ResNetModuleNs from '../src/model/backbone/resnet.ts';
import type * as ExportModuleNs from '../src/runtime/onnx/export.ts';
import type * as SessionModuleNs from '../src/runtime/onnx/session.ts';

type ResNetModule = typeof ResNetModuleNs;
type ExportModule = typeof ExportModuleNs;
type SessionModule = typeof SessionModuleNs;

/**
 * Trainable-op speed on tfjs-wasm: for ResNet-shaped conv layers (at the resolution they run for a
 * 800×1088 image) forward, dX, dW and a full train step (forward + both gradients) ÷ forward; then
 * ResNet-18/50 body forward at 1×800×1088 on tfjs-wasm, ONNX Runtime and (when importable) PyTorch,
 * as ratios in the same run. Args: `--runs 3`, `--scale 1` (divide H and W of every shape),
 * `--skip-bodies`, `--backend wasm|cpu`.
 */
interface ConvLayer {
  name: string;
  /** Input `[H,W,Cin]` at scale 1. */
  hwc: [number, number, number];
  k: number;
  cout: number;
  opts: Conv2dOptions;
}

const LAYERS: ConvLayer[] = [
  { name: 'stem 7×7 s2 3→64', hwc: [800, 1088, 3], k: 7, cout: 64, opts: { stride: 2, padding: 3 } },
  { name: 'res2 1×1 64→64', hwc: [200, 272, 64], k: 1, cout: 64, opts: {} },
  { name: 'res2 3×3 64→64', hwc: [200, 272, 64], k: 3, cout: 64, opts: { padding: 1 } },
  { name: 'res2 1×1 64→256', hwc: [200, 272, 64], k: 1, cout: 256, opts: {} },
  { name: 'res3 3×3 s2 128→128', hwc: [200, 272, 128], k: 3, cout: 128, opts: { stride: 2, padding: 1 } },
  { name: 'res3 down 1×1 s2 256→512', hwc: [200, 272, 256], k: 1, cout: 512, opts: { stride: 2 } },
  { name: 'res4 3×3 256→256', hwc: [50, 68, 256], k: 3, cout: 256, opts: { padding: 1 } },
  { name: 'res5 3×3 512→512', hwc: [25, 34, 512], k: 3, cout: 512, opts: { padding: 1 } },
  { name: 'ASPP 3×3 d6 256→256 (8 RoIs 28²)', hwc: [28 * 8, 28, 256], k: 3, cout: 256, opts: { padding: 6, dilation: 6 } },
  { name: 'ResNeXt res2 3×3 g32 128→128', hwc: [200, 272, 128], k: 3, cout: 128, opts: { padding: 1, groups: 32 } },
];

interface Args {
  runs: number;
  scale: number;
  skipBodies: boolean;
  backend: 'wasm' | 'cpu';
}

function parseArgs(args: string[]): Args {
  const out: Args = { runs: 3, scale: 1, skipBodies: false, backend: 'wasm' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--runs') out.runs = Number(args[++i]);
    else if (a === '--scale') out.scale = Number(args[++i]);
    else if (a === '--skip-bodies') out.skipBodies = true;
    else if (a === '--backend') out.backend = args[++i] === 'cpu' ? 'cpu' : 'wasm';
  }
  return out;
}

/** Median wall time of `runs` calls after one warm-up; each call's outputs are read back (dataSync). */
function median(runs: number, f: () => tf.Tensor | tf.Tensor[]): number {
  const once = (): number => {
    const t0 = performance.now();
    tf.tidy(() => {
      const r = f();
      for (const t of Array.isArray(r) ? r : [r]) t.dataSync();
    });
    return performance.now() - t0;
  };
  once();
  const ts = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '));
}

function convTable(a: Args): void {
  const rows: string[][] = [['layer', 'input', 'fwd ms', 'dX ms', 'dW ms', 'step ms', 'dX/fwd', 'dW/fwd', 'step/fwd']];
  const ratios: number[] = [];
  for (const l of LAYERS) {
    const h = Math.max(l.k, Math.round(l.hwc[0] / a.scale));
    const w = Math.max(l.k, Math.round(l.hwc[1] / a.scale));
    const cin = l.hwc[2];
    const groups = l.opts.groups ?? 1;
    const x = tf.randomNormal([1, h, w, cin], 0, 1, 'float32', 1) as tf.Tensor4D;
    const wt = tf.randomNormal([l.k, l.k, cin / groups, l.cout], 0, 0.05, 'float32', 2) as tf.Tensor4D;
    const y0 = conv2d(x, wt, l.opts);
    const dy = tf.randomNormal(y0.shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    y0.dispose();
    const fwd = median(a.runs, () => conv2d(x, wt, l.opts));
    // dX and dW alone are only defined per group; grouped layers show them as part of the step.
    const dx = groups === 1 ? median(a.runs, () => conv2dBackwardInput(dy, wt, [h, w], l.opts)) : NaN;
    const dw = groups === 1 ? median(a.runs, () => conv2dBackwardFilter(x, dy, [l.k, l.k], l.opts)) : NaN;
    // A train step of this layer: forward, then both gradients for the upstream dy (tf.grads with dy).
    const total = median(a.runs, () => tf.grads((xi: tf.Tensor, wi: tf.Tensor) => conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, l.opts))([x, wt], dy));
    ratios.push(total / fwd);
    rows.push([l.name, `${h}×${w}×${cin}`, fwd.toFixed(1), Number.isNaN(dx) ? '-' : dx.toFixed(1), Number.isNaN(dw) ? '-' : dw.toFixed(1), total.toFixed(1), Number.isNaN(dx) ? '-' : (dx / fwd).toFixed(2), Number.isNaN(dw) ? '-' : (dw / fwd).toFixed(2), (total / fwd).toFixed(2)]);
    tf.dispose([x, wt, dy]);
  }
  printTable(rows);
  const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  console.log(`train step ÷ forward: geometric mean ${geo.toFixed(2)} (goal ≤ 4); step = forward + dX + dW as tf.grads runs them for an upstream dy`);
}

async function bodies(a: Args): Promise<void> {
  const h = Math.round(800 / a.scale / 32) * 32;
  const w = Math.round(1088 / a.scale / 32) * 32;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const resnetFile = `${here}../src/model/backbone/resnet.ts`;
  const exportFile = `${here}../src/runtime/onnx/export.ts`;
  const sessionFile = `${here}../src/runtime/onnx/session.ts`;
  if (!existsSync(resnetFile)) {
    console.log('ResNet bodies: n/a (src/model/backbone/resnet.ts not in this build)');
    return;
  }
  const { ResNet } = (await import(resnetFile)) as ResNetModule;
  const onnx = existsSync(exportFile) && existsSync(sessionFile) ? { ...((await import(exportFile)) as ExportModule), ...((await import(sessionFile)) as SessionModule) } : undefined;
  const torch = torchTimes(h, w, a.runs);
  const ex = new TfExecutor();
  const rows: string[][] = [['body 1×' + `${h}×${w}`, 'tfjs-wasm ms', 'ORT ms', 'PyTorch ms', 'tfjs/ORT', 'tfjs/PyTorch']];
  for (const depth of [18, 50] as const) {
    const net = new ResNet({ depth });
    const input = tf.randomNormal([1, h, w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const tfMs = median(a.runs, () => net.forward(ex, input).res5);
    let ortMs = NaN;
    if (onnx) {
      const bytes = onnx.exportOnnx(net, (oex, [xi]) => net.forward(oex, xi!).res5, { inputs: [{ name: 'image', shape: [1, -1, -1, 3] }], outputNames: ['res5'] });
      const session = await onnx.createSession(bytes, {});
      const feeds = { image: { data: input.dataSync() as Float32Array, shape: [1, h, w, 3] } };
      await session.run(feeds);
      const ts: number[] = [];
      for (let i = 0; i < a.runs; i++) {
        const t0 = performance.now();
        await session.run(feeds);
        ts.push(performance.now() - t0);
      }
      ortMs = ts.sort((p, q) => p - q)[Math.floor(ts.length / 2)]!;
      await session.dispose();
    }
    const ptMs = torch?.[depth] ?? NaN;
    const f = (v: number, d = 0) => (Number.isNaN(v) ? 'n/a' : v.toFixed(d));
    rows.push([`ResNet-${depth}`, f(tfMs), f(ortMs), f(ptMs), f(tfMs / ortMs, 2), f(tfMs / ptMs, 2)]);
    input.dispose();
    net.dispose();
  }
  printTable(rows);
}

/** ResNet-18/50 body (torchvision-style, random weights) forward in PyTorch, when `import torch` works. */
function torchTimes(h: number, w: number, runs: number): Record<number, number> | undefined {
  const script = `
import time, torch, torch.nn as nn, json
def block(cin, cout, s, bottleneck):
    if not bottleneck:
        m = nn.Sequential(nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1, bias=False))
    else:
        mid = cout // 4
        m = nn.Sequential(nn.Conv2d(cin, mid, 1, s, bias=False), nn.ReLU(), nn.Conv2d(mid, mid, 3, 1, 1, bias=False), nn.ReLU(), nn.Conv2d(mid, cout, 1, bias=False))
    return m
class Res(nn.Module):
    def __init__(s, cin, cout, st, b):
        super().__init__(); s.b = block(cin, cout, st, b); s.d = nn.Conv2d(cin, cout, 1, st, bias=False) if (cin != cout or st != 1) else None
    def forward(s, x): return torch.relu(s.b(x) + (s.d(x) if s.d is not None else x))
def body(depth):
    b = depth >= 50; reps = {18: [2,2,2,2], 50: [3,4,6,3]}[depth]; outs = [256,512,1024,2048] if b else [64,128,256,512]
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]; cin = 64
    for i, (r, c) in enumerate(zip(reps, outs)):
        for j in range(r): layers.append(Res(cin, c, 2 if (j == 0 and i > 0) else 1, b)); cin = c
    return nn.Sequential(*layers).eval()
res = {}
x = torch.randn(1, 3, ${h}, ${w})
with torch.no_grad():
    for d in (18, 50):
        m = body(d); m(x); ts = []
        for _ in range(${runs}):
            t = time.perf_counter(); m(x); ts.append((time.perf_counter() - t) * 1000)
        res[d] = sorted(ts)[len(ts) // 2]
print(json.dumps(res))
`;
  const py = pythonWithTorch();
  if (!py) return undefined;
  try {
    const out = execFileSync(py, ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 600_000 });
    return JSON.parse(out.trim().split('\n').pop()!) as Record<number, number>;
  } catch {
    return undefined;
  }
}

export async function run(args: string[]): Promise<void> {
  const a = parseArgs(args);
  const report = await initBackend({ backend: a.backend });
  console.log(`tfjs backend ${report.backend}, ${report.threads} thread(s), SIMD ${String(report.simd)}; ${availableParallelism()} cores visible; median of ${a.runs}${a.scale !== 1 ? `; shapes ÷${a.scale}` : ''}`);
  convTable(a);
  if (!a.skipBodies) await bodies(a);
}
