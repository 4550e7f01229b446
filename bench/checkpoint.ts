// Checkpoint I/O throughput and memory on a large Python-2-style pickle (the shape of DensePose's
// Pdist_matrix.pkl: one float32 array in a BINSTRING), and safetensors write/read of the same array.
// Baseline: fs.readFileSync of the same file in the same run. `npm run bench -- checkpoint [--mb N]`.
import { closeSync, openSync, readFileSync, rmSync, writeSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NdArray } from '../src/runtime/checkpoint/ndarray.ts';
import { readPickle } from '../src/runtime/checkpoint/pickle.ts';
import { readSafetensors, writeSafetensors } from '../src/runtime/checkpoint/safetensors.ts';

/** Write `{"Pdist_matrix": float32[n, 1]}` as Python 2's cPickle (protocol 2) lays it out; payload at an odd offset. */
function writePy2Pickle(path: string, n: number): void {
  const ascii = (s: string) => Buffer.from(s, 'latin1');
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return b;
  };
  const nbytes = n * 4;
  const head = Buffer.concat([
    ascii('\x80\x02}q\x01U\x0cPdist_matrixq\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85q\x05U\x01bq\x06\x87q\x07Rq\x08(K\x01'),
    ascii('J'), i32(n), ascii('K\x01\x86q\x09cnumpy\ndtype\nq\x0aU\x02f4q\x0bK\x00K\x01\x87q\x0cRq\x0d(K\x03U\x01<q\x0eNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x0fb\x89'),
    ascii('T'), i32(nbytes),
  ]);
  const tail = ascii('q\x10tq\x11bs.');
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  const chunk = new Float32Array(1 << 20);
  for (let done = 0; done < n; done += chunk.length) {
    const len = Math.min(chunk.length, n - done);
    for (let i = 0; i < len; i++) chunk[i] = (done + i) * 1e-3;
    writeSync(fd, new Uint8Array(chunk.buffer, 0, len * 4));
  }
  writeSync(fd, tail);
  closeSync(fd);
}

function memMb(): number {
  const m = process.memoryUsage();
  return (m.arrayBuffers + m.heapUsed) / 2 ** 20;
}

/** Median time of `reps` runs; memory held by the first run's result. */
function time<T>(fn: () => T, reps = 3): { ms: number; value: T; peakMb: number } {
  globalThis.gc?.();
  const base = memMb();
  const times: number[] = [];
  let t = performance.now();
  const value = fn();
  times.push(performance.now() - t);
  const peakMb = memMb() - base;
  for (let r = 1; r < reps; r++) {
    t = performance.now();
    fn();
    times.push(performance.now() - t);
    globalThis.gc?.();
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, value, peakMb };
}

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--mb');
  const mb = i >= 0 ? Number(args[i + 1]) : 128;
  const n = Math.floor((mb * 2 ** 20) / 4);
  const dir = mkdtempSync(join(tmpdir(), 'bench-ckpt-'));
  try {
    const pkl = join(dir, 'Pdist_like.pkl');
    writePy2Pickle(pkl, n);
    const rows: [string, number, number, string][] = [];
    const base = time(() => readFileSync(pkl));
    rows.push(['fs.readFileSync (baseline)', base.ms, base.peakMb, '']);
    const buf = base.value;
    const fromPath = time(() => readPickle(pkl) as Map<string, NdArray>);
    const arr = fromPath.value.get('Pdist_matrix')!;
    const ok = arr.data.length === n && (arr.data as Float32Array)[n - 1] === Math.fround((n - 1) * 1e-3);
    rows.push(['readPickle(path): chunked, own aligned buffer', fromPath.ms, fromPath.peakMb, ok ? 'values ok' : 'VALUES WRONG']);
    const fromBuf = time(() => readPickle(buf) as Map<string, NdArray>);
    const viewed = fromBuf.value.get('Pdist_matrix')!.data.buffer === buf.buffer;
    rows.push(['readPickle(buffer): in memory', fromBuf.ms, fromBuf.peakMb, viewed ? 'view' : 'unaligned payload: copied']);
    const st = join(dir, 'x.safetensors');
    const w = time(() => writeSafetensors(st, new Map([['Pdist_matrix', arr]])));
    rows.push(['writeSafetensors (atomic)', w.ms, w.peakMb, '']);
    const r = time(() => readSafetensors(st));
    rows.push(['readSafetensors(path)', r.ms, r.peakMb, r.value.tensors.get('Pdist_matrix')!.data.length === n ? 'values ok' : 'WRONG']);
    console.log(`file: ${(buf.length / 2 ** 20).toFixed(0)} MiB Python-2 pickle (BINSTRING float32[${n}, 1]); median of 3; MiB held = heap + ArrayBuffers kept by the result${globalThis.gc ? '' : ' (run node with --expose-gc for steadier figures)'}`);
    console.log('| step | ms | × baseline | MiB held | note |\n|---|---|---|---|---|');
    for (const [name, ms, peak, note] of rows) console.log(`| ${name} | ${ms.toFixed(0)} | ${(ms / base.ms).toFixed(2)} | ${peak.toFixed(0)} | ${note} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
