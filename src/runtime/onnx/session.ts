import { statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DensePoseError, unknownValue } from '../../errors.ts';

/**
 * Execution providers one may ask for. In onnxruntime-node only `cpu` (and `webgpu`) ship in the
 * npm tarball; `cuda`/`tensorrt` need the CUDA 12 provider libraries, which the package's install
 * script downloads when installed with `ONNXRUNTIME_NODE_INSTALL=cuda12` (our CI installs with
 * `ONNXRUNTIME_NODE_INSTALL=skip`, so it has CPU only). `dml` is Windows, `coreml` macOS.
 */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'webgpu', 'dml', 'coreml'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type GraphOptimizationLevel = (typeof GRAPH_OPTIMIZATION_LEVELS)[number];

export interface SessionOptions {
  /** Preferred provider; nodes it cannot run go to CPU inside ORT. @default 'cpu' */
  executionProvider?: ExecutionProvider;
  /**
   * When the preferred provider cannot start (its libraries are not installed, no device), open the
   * session on CPU instead and say so in `session.executionProvider` / `session.fallbackReason`.
   * When false, that failure throws `UNSUPPORTED`.
   * @default true
   */
  fallbackToCpu?: boolean;
  /** Intra-op threads; 0 lets ORT use one per physical core. @default 0 */
  threads?: number;
  /** @default 'all' */
  graphOptimization?: GraphOptimizationLevel;
  /**
   * Let idle intra-op threads spin for work (ORT's default). Spinning wins on a quiet machine and loses
   * badly on a shared one (training's many short kernels, several processes): false parks them.
   * @default true
   */
  spinning?: boolean;
  /**
   * Write the graph as ONNX Runtime optimized it (at `graphOptimization`) to this path; a `.ort` path gets
   * ORT's own format, which later opens without protobuf parsing or re-optimizing. @default not written
   */
  saveOptimizedTo?: string;
  /**
   * `model` is ORT-format bytes: let the session use them in place, initializers included (no copy);
   * the bytes stay referenced until the session is disposed. @default false
   */
  ortFormatBytes?: boolean;
}

/** A dense tensor going into or out of a session; `data` is row-major in `shape`. */
export interface OnnxTensor {
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
  shape: readonly number[];
}

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The provider the session actually runs on. */
  readonly executionProvider: ExecutionProvider;
  /** Why the requested provider was replaced by CPU; undefined when it was not. */
  readonly fallbackReason: string | undefined;
  /** Run the graph; returns every output (or the `outputs` asked for) by name. */
  run(feeds: Record<string, OnnxTensor>, outputs?: readonly string[]): Promise<Record<string, OnnxTensor>>;
  dispose(): Promise<void>;
}

/** Open an ONNX Runtime session on model bytes or a `.onnx` file path. */
export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<OnnxSession> {
  const ep = options.executionProvider ?? 'cpu';
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(ep)) throw unknownValue('execution provider', ep, EXECUTION_PROVIDERS);
  const level = options.graphOptimization ?? 'all';
  if (!(GRAPH_OPTIMIZATION_LEVELS as readonly string[]).includes(level)) throw unknownValue('graph optimization level', level, GRAPH_OPTIMIZATION_LEVELS);
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) throw new DensePoseError('BAD_OPTION', `createSession: threads must be a non-negative integer, got ${threads}`);
  const base: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, graphOptimizationLevel: level };
  const sessionExtra: Record<string, unknown> = {};
  if (options.spinning === false) Object.assign(sessionExtra, { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } });
  if (options.ortFormatBytes) Object.assign(sessionExtra, { use_ort_model_bytes_directly: '1', use_ort_model_bytes_for_initializers: '1' });
  if (options.saveOptimizedTo) {
    base.optimizedModelFilePath = options.saveOptimizedTo;
    // saving at level 'all' warns that the file is for this CPU: expected, the caller keys its cache by CPU
    base.logSeverityLevel = 3;
    if (options.saveOptimizedTo.endsWith('.ort')) sessionExtra.save_model_format = 'ORT';
  }
  if (Object.keys(sessionExtra).length > 0) base.extra = { session: sessionExtra };
  const where = typeof model === 'string' ? model : undefined;

  let fallbackReason: string | undefined;
  let session: ort.InferenceSession;
  try {
    // A missing provider library is expected when falling back; keep ORT from printing it as an error.
    const quiet = ep !== 'cpu' && options.fallbackToCpu !== false;
    session = await open(model, { ...base, executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'], ...(quiet ? { logSeverityLevel: 4 as const } : {}) });
  } catch (e) {
    const message = (e as Error).message;
    if (ep === 'cpu' || options.fallbackToCpu === false || isModelError(message)) {
      throw new DensePoseError(ep !== 'cpu' && !isModelError(message) ? 'UNSUPPORTED' : 'BAD_FILE', `cannot open ONNX Runtime session on "${ep}": ${message}`, { where, cause: e });
    }
    fallbackReason = `execution provider "${ep}" unavailable (${message.split('\n')[0]}); using cpu`;
    session = await open(model, { ...base, executionProviders: ['cpu'] }).catch((e2: unknown) => {
      throw new DensePoseError('BAD_FILE', `cannot open ONNX Runtime session: ${(e2 as Error).message}`, { where, cause: e2 });
    });
  }
  // ORT-format bytes used in place must outlive the session: the wrapper holds them until dispose.
  return wrap(session, fallbackReason ? 'cpu' : ep, fallbackReason, options.ortFormatBytes && typeof model !== 'string' ? model : undefined);
}

async function open(model: Uint8Array | string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await (typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options));
  } finally {
    removeOrtDebugLog();
  }
}

let debugLogChecked = false;

/**
 * onnxruntime-node's Linux build carries Microsoft's 1DS telemetry SDK, whose trace switch is on in
 * that build: creating ORT's environment (with the first session of a process) opens
 * `$TMPDIR/mat-debug-<pid>.log` and nothing is ever written to it; no session or environment
 * option of onnxruntime-node turns it off. Remove the file once the environment exists, if it is
 * still empty (the open stream then writes nowhere). Once per process.
 */
export function removeOrtDebugLog(): void {
  if (debugLogChecked) return;
  debugLogChecked = true;
  const path = join(tmpdir(), `mat-debug-${process.pid}.log`);
  try {
    if (statSync(path).size === 0) unlinkSync(path);
  } catch {
    // Not there (another build, or another temp dir): nothing to clean.
  }
}

/** Errors about the model itself must not be blamed on the provider (and retried). */
function isModelError(message: string): boolean {
  return /protobuf parsing failed|invalid model|load model|no such file|ENOENT|shape inference|type inference/i.test(message);
}

const TYPES = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array } as const;

function wrap(session: ort.InferenceSession, executionProvider: ExecutionProvider, fallbackReason: string | undefined, heldBytes?: Uint8Array): OnnxSession {
  let disposed = false;
  let held = heldBytes;
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    executionProvider,
    fallbackReason,
    async run(feeds, outputs) {
      if (disposed) throw new DensePoseError('BAD_INPUT', 'OnnxSession.run: the session was disposed');
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const t = feeds[name];
        if (!t) throw new DensePoseError('MISSING_KEY', `OnnxSession.run: no feed for input "${name}". Inputs: ${session.inputNames.join(', ')}`);
        const size = t.shape.reduce((a, b) => a * b, 1);
        if (size !== t.data.length) throw new DensePoseError('SHAPE_MISMATCH', `OnnxSession.run: input "${name}" has ${t.data.length} values but shape [${t.shape.join(',')}] needs ${size}`);
        ortFeeds[name] = new ort.Tensor(t.data, [...t.shape]);
      }
      const results = outputs ? await session.run(ortFeeds, [...outputs]) : await session.run(ortFeeds);
      const out: Record<string, OnnxTensor> = {};
      for (const [name, t] of Object.entries(results)) {
        const ctor = TYPES[t.type as keyof typeof TYPES];
        if (!ctor || !(t.data instanceof ctor)) throw new DensePoseError('UNSUPPORTED', `OnnxSession.run: output "${name}" has type ${t.type}; supported: ${Object.keys(TYPES).join(', ')}`);
        out[name] = { data: t.data, shape: [...t.dims] };
      }
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
      if (held) held = undefined;
    },
  };
}
