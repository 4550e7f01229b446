// Stage runners on ONNX Runtime. `createOrtStageRunner` takes the ORT module as an argument, so the
// same code runs on onnxruntime-node and onnxruntime-web (their `onnxruntime-common` API is one).
import { DensePoseError } from '../errors.ts';
import type { StageRunner } from './pipeline.ts';
import { STAGES, type StageName } from './stage-names.ts';
import type { StageTensor } from './types.ts';

/** What the pipeline uses of an ORT tensor. */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

/** What the pipeline uses of an ORT session. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The parts of an `onnxruntime-node` / `onnxruntime-web` module the runner needs. */
export interface OrtModuleLike {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensorLike;
}

export interface OrtStageRunnerOptions {
  /** ORT execution providers in order of preference, e.g. `['webgpu', 'wasm']`. @default ORT's default */
  executionProviders?: readonly string[];
  /** Extra session options passed through to `InferenceSession.create`. */
  sessionOptions?: Record<string, unknown>;
}

/** Sessions for the three stage graphs on an injected ORT module. */
export async function createOrtStageRunner(ort: OrtModuleLike, graphs: Record<StageName, Uint8Array>, options: OrtStageRunnerOptions = {}): Promise<StageRunner> {
  const sessions = new Map<StageName, OrtSessionLike>();
  try {
    for (const stage of STAGES) {
      const opts = { ...options.sessionOptions, ...(options.executionProviders ? { executionProviders: [...options.executionProviders] } : {}) };
      sessions.set(stage, await ort.InferenceSession.create(graphs[stage], opts));
    }
  } catch (e) {
    for (const s of sessions.values()) await s.release();
    throw new DensePoseError('BAD_FILE', `cannot open ONNX Runtime sessions for the model stages: ${(e as Error).message}`, { cause: e });
  }
  let disposed = false;
  return {
    async run(stage, feeds) {
      if (disposed) throw new DensePoseError('BAD_INPUT', 'stage runner was disposed');
      const session = sessions.get(stage)!;
      const ortFeeds: Record<string, OrtTensorLike> = {};
      for (const name of session.inputNames) {
        const t = feeds[name];
        if (!t) throw new DensePoseError('MISSING_KEY', `stage "${stage}": no feed for input "${name}"`);
        ortFeeds[name] = new ort.Tensor('float32', t.data, t.shape);
      }
      const out = await session.run(ortFeeds);
      const result: Record<string, StageTensor> = {};
      for (const [name, t] of Object.entries(out)) {
        if (!(t.data instanceof Float32Array)) throw new DensePoseError('UNSUPPORTED', `stage "${stage}": output "${name}" is ${t.type}, expected float32`);
        result[name] = { data: t.data, shape: [...t.dims] };
      }
      return result;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of sessions.values()) await s.release();
    },
  };
}
