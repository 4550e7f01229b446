// Opt-in int8 stages (`precision: 'int8-head' | 'int8'`): run the float32 pipeline on calibration images,
// record the stages' inputs, observe the ranges of the activations to quantise on them, and rewrite the
// stage graphs in QDQ form (src/runtime/onnx/quantize.ts). Node only (calibration runs on onnxruntime-node).
import { DensePoseError } from '../errors.ts';
import { createSession, type SessionOptions } from '../runtime/onnx/session.ts';
import { type QuantizableOp, quantizableActivations, quantizeConvsQdq, RangeObserver, withExtraOutputs } from '../runtime/onnx/quantize.ts';
import type { StageRunner } from './pipeline.ts';
import type { StageName } from './stage-names.ts';
import type { StageTensor } from './types.ts';

/** `runner`, also handing every feed of the `stages` to `record` (calibration). */
export function recordingStageInputs(runner: StageRunner, stages: readonly StageName[], record: (stage: StageName, feeds: Record<string, StageTensor>) => void): StageRunner {
  return {
    run(stage, feeds) {
      if (stages.includes(stage)) record(stage, feeds);
      return runner.run(stage, feeds);
    },
    dispose: () => runner.dispose(),
  };
}

/** Extra graph outputs per calibration run: bounds the memory of observing a whole backbone at 800 px. */
const OUTPUTS_PER_RUN = 16;

/**
 * The int8 QDQ form of a stage graph: the activations feeding `ops` are observed (min/max) over the
 * recorded `feeds`, then quantised with the weights of every Conv they feed. Throws `BAD_INPUT` when there
 * is nothing to calibrate on (e.g. no person box for the DensePose head).
 */
export async function quantizeStageGraph(stage: StageName, graph: Uint8Array, feeds: readonly Record<string, StageTensor>[], ops: readonly QuantizableOp[], options: SessionOptions = {}): Promise<Uint8Array> {
  const usable = feeds.filter((f) => Object.values(f).every((t) => t.shape[0]! > 0));
  if (usable.length === 0) throw new DensePoseError('BAD_INPUT', `int8 ${stage}: the calibration images gave nothing to calibrate on (give calibrationImages with people in them)`);
  const names = quantizableActivations(graph, ops);
  const observer = new RangeObserver();
  for (let start = 0; start < names.length; start += OUTPUTS_PER_RUN) {
    const chunk = names.slice(start, start + OUTPUTS_PER_RUN);
    const session = await createSession(withExtraOutputs(graph, chunk), { ...options, executionProvider: 'cpu' });
    try {
      for (const f of usable) {
        const out = await session.run(f, chunk);
        for (const n of chunk) observer.observe(n, out[n]!.data as Float32Array);
      }
    } finally {
      await session.dispose();
    }
  }
  return quantizeConvsQdq(graph, observer.ranges);
}
