// Stage runner on onnxruntime-node through the runtime's `createSession` (provider choice and CPU fallback).
import { createSession, type OnnxSession, type SessionOptions } from '../runtime/onnx/session.ts';
import { DensePoseError } from '../errors.ts';
import { createCachedSession } from './optimized-graphs.ts';
import type { StageRunner } from './pipeline.ts';
import { STAGES, type StageName } from './stage-names.ts';
import type { StageTensor } from './types.ts';

export interface NodeStageRunner extends StageRunner {
  /** Provider the sessions actually run on, and why another was replaced (if it was). */
  readonly executionProvider: string;
  readonly fallbackReason: string | undefined;
}

/**
 * One onnxruntime-node session per stage graph (ModelProto bytes, or a `.onnx` file path). Files open
 * through the optimized-graph cache under `optimizedCache` when given (optimized-graphs.ts).
 */
export async function createNodeStageRunner(graphs: Record<StageName, Uint8Array | string>, options: SessionOptions = {}, optimizedCache?: string): Promise<NodeStageRunner> {
  const sessions = new Map<StageName, OnnxSession>();
  try {
    for (const stage of STAGES) {
      const g = graphs[stage];
      sessions.set(stage, typeof g === 'string' ? await createCachedSession(g, optimizedCache, options) : await createSession(g, options));
    }
  } catch (e) {
    for (const s of sessions.values()) await s.dispose();
    throw e;
  }
  const first = sessions.get('body')!;
  return {
    executionProvider: first.executionProvider,
    fallbackReason: first.fallbackReason,
    async run(stage, feeds) {
      const out = await sessions.get(stage)!.run(feeds);
      const result: Record<string, StageTensor> = {};
      for (const [name, t] of Object.entries(out)) {
        if (!(t.data instanceof Float32Array)) throw new DensePoseError('UNSUPPORTED', `stage "${stage}": output "${name}" is not float32`);
        result[name] = { data: t.data, shape: t.shape };
      }
      return result;
    },
    async dispose() {
      for (const s of sessions.values()) await s.dispose();
    },
  };
}
