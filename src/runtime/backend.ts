import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError, unknownValue } from '../errors.ts';
import './ops/gradients.ts';

/** Backends the runtime can train and run on; `tensorflow` needs the user's own `@tensorflow/tfjs-node(-gpu)`. */
export const BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendOptions {
  /** Backend to use. @default process.env.DENSEPOSE_BACKEND ?? 'wasm' */
  backend?: BackendName;
  /** Threads for the wasm backend (effective only where the threaded build runs). @default os.availableParallelism() */
  threads?: number;
}

export interface BackendReport {
  backend: BackendName;
  /** Threads the backend actually runs (wasm: `getThreadsCount()`), 1 when it has no notion of threads. */
  threads: number;
  /** Whether the wasm backend runs its SIMD build. */
  simd: boolean | undefined;
}

let initialised: BackendReport | undefined;

function parseBackend(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw unknownValue('backend', value, BACKENDS);
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Run `fn` and remove the process-wide error handlers it installed. Emscripten's Node glue (inside
 * tfjs-backend-wasm) adds `uncaughtException`/`unhandledRejection` handlers that rethrow, which makes
 * Node print a line of its ~39 KB minified source and exit 7 for any later error anywhere in the
 * process; its own clean-up filter never matches. A library must not own those hooks: the
 * application (our CLI, or the user's program) does.
 */
async function withoutForeignProcessHandlers<T>(fn: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void;
  const listeners = (e: string) => process.listeners(e as 'uncaughtException') as Listener[];
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(listeners(e))]));
  try {
    return await fn();
  } finally {
    for (const e of PROCESS_EVENTS) {
      for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.removeListener(e, l);
    }
  }
}

/**
 * Select and initialise the tfjs backend once per process. Later calls with the same choice return the
 * first report; asking for a different backend switches (tfjs keeps the other registered).
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendReport> {
  const wanted = parseBackend(options.backend) ?? parseBackend(process.env.DENSEPOSE_BACKEND) ?? 'wasm';
  if (initialised && initialised.backend === wanted) return initialised;
  if (wanted === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { availableParallelism } = await import('node:os');
    wasm.setThreadsCount(options.threads ?? availableParallelism());
    await withoutForeignProcessHandlers(() => tf.setBackend('wasm'));
    const simd = tf.env().getAsync ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : undefined;
    initialised = { backend: 'wasm', threads: wasm.getThreadsCount(), simd: Boolean(simd) };
  } else if (wanted === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    // The cpu backend prints a "install tfjs-node to speed things up" banner on its first tensor
    // write; here cpu is a deliberate choice (tests, reference runs), so skip it. `firstUse` is the
    // backend's own one-shot flag for that banner (tfjs-backend-cpu 4.x).
    const cpu = tf.backend() as unknown as { firstUse?: boolean };
    if (typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
    initialised = { backend: 'cpu', threads: 1, simd: undefined };
  } else {
    try {
      // Optional peer: only present where the user installed it; the name is built so bundlers don't resolve it.
      const name = ['@tensorflow', 'tfjs-node'].join('/');
      await import(name);
    } catch (cause) {
      throw new DensePoseError('UNSUPPORTED', 'backend "tensorflow" needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed (npm i @tensorflow/tfjs-node). Available here: wasm, cpu.', { cause });
    }
    await tf.setBackend('tensorflow');
    initialised = { backend: 'tensorflow', threads: 1, simd: undefined };
  }
  return initialised;
}

/**
 * One line for `densepose check` / logs: backend, threads, SIMD. tfjs-wasm runs one thread in Node:
 * its threaded SIMD build loads there (given a file path instead of the blob URL it makes for its
 * pthread worker), but XNNPACK's pool is created synchronously at backend construction, before
 * Node can start any worker, so it reports and uses 1 thread.
 */
export function describeBackend(report: BackendReport): string {
  const simd = report.simd === undefined ? '' : report.simd ? ', SIMD' : ', no SIMD';
  return `tfjs backend ${report.backend} (${report.threads} thread${report.threads === 1 ? '' : 's'}${simd})`;
}
