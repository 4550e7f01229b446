import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ResNet } from '../src/model/backbone/resnet.ts';
import type { ResNetDepth } from '../src/model/config.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { exportOnnx } from '../src/runtime/onnx/export.ts';
import { createSession } from '../src/runtime/onnx/session.ts';
import { relError } from '../src/runtime/onnx/test-helpers.ts';
import { TfExecutor } from '../src/runtime/tf-executor.ts';

/**
 * ResNet body forward (stem..res5, random weights) on ONNX Runtime (CPU EP) and tfjs-wasm, same
 * process, same weights, same input; median of N runs after one warm-up. Also checks that the two
 * outputs agree. Args: `--depths 18,50` `--size 800x1088` `--runs 3` `--threads 0` (ORT intra-op,
 * 0 = ORT default) `--skip-tfjs`.
 */
export async function run(args: string[]): Promise<void> {
  const opt = parseArgs(args);
  // Parameters live in tfjs either way; with --skip-tfjs the cpu backend only holds them.
  const report = await initBackend({ backend: opt.skipTfjs ? 'cpu' : 'wasm' });
  const backend = opt.skipTfjs ? undefined : report;
  console.log(`input 1×3×${opt.h}×${opt.w} (tfjs NHWC, ORT NHWC input transposed once in-graph), median of ${opt.runs}, ${availableParallelism()} cores visible`);
  if (backend) console.log(`tfjs backend ${backend.backend}, ${backend.threads} thread(s), simd ${String(backend.simd)}`);
  const rows: string[][] = [['model', 'ORT ms', 'tfjs-wasm ms', 'tfjs / ORT', 'rel. diff', 'export ms', 'session ms']];
  for (const depth of opt.depths) {
    const net = new ResNet({ depth: depth as ResNetDepth });
    const input = tf.tidy(() => tf.randomNormal([1, opt.h, opt.w, 3], 0, 1, 'float32', 1).dataSync() as Float32Array);

    let t0 = performance.now();
    const bytes = exportOnnx(net, (ex, [x]) => net.forward(ex, x!).res5, { inputs: [{ name: 'image', shape: [1, -1, -1, 3] }], outputNames: ['res5'] });
    const exportMs = performance.now() - t0;
    t0 = performance.now();
    const session = await createSession(bytes, { threads: opt.threads });
    const sessionMs = performance.now() - t0;
    const feeds = { image: { data: input, shape: [1, opt.h, opt.w, 3] } };
    let ortOut: Float32Array | undefined;
    const ortMs = await median(opt.runs, async () => {
      ortOut = (await session.run(feeds))['res5']!.data as Float32Array;
    });
    await session.dispose();

    let tfMs = NaN;
    let diff = NaN;
    if (backend) {
      const ex = new TfExecutor();
      let tfOut: Float32Array | undefined;
      tfMs = await median(opt.runs, () => {
        tfOut = tf.tidy(() => net.forward(ex, tf.tensor4d(input, [1, opt.h, opt.w, 3])).res5.dataSync() as Float32Array);
      });
      diff = relError(ortOut!, tfOut!);
    }
    net.dispose();
    rows.push([`ResNet-${depth}`, ortMs.toFixed(0), fmt(tfMs, 0), fmt(tfMs / ortMs, 2), Number.isNaN(diff) ? '-' : diff.toExponential(1), exportMs.toFixed(0), sessionMs.toFixed(0)]);
  }
  printTable(rows);
}

async function median(runs: number, f: () => void | Promise<void>): Promise<number> {
  await f(); // warm-up: kernel compilation, allocator growth
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(`| ${r.map((v, c) => v.padStart(widths[c]!)).join(' | ')} |`);
}

interface BenchOptions {
  depths: number[];
  h: number;
  w: number;
  runs: number;
  threads: number;
  skipTfjs: boolean;
}

function parseArgs(args: string[]): BenchOptions {
  const o: BenchOptions = { depths: [18, 50], h: 800, w: 1088, runs: 3, threads: 0, skipTfjs: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1] ?? '';
    switch (a) {
      case '--depths':
        o.depths = v.split(',').map(Number);
        i++;
        break;
      case '--size':
        [o.h, o.w] = v.split('x').map(Number) as [number, number];
        i++;
        break;
      case '--runs':
        o.runs = Number(v);
        i++;
        break;
      case '--threads':
        o.threads = Number(v);
        i++;
        break;
      case '--skip-tfjs':
        o.skipTfjs = true;
        break;
      default:
        throw new Error(`bench onnx: unknown argument "${a}". Expected: --depths 18,50 --size HxW --runs N --threads N --skip-tfjs`);
    }
  }
  return o;
}
