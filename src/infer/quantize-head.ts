// Opt-in int8 DensePose head (`precision: 'int8-head'`): run the float32 pipeline on calibration images,
// record the head's inputs, observe every Conv activation's range on them, and rewrite the head graph
// in QDQ form (src/runtime/onnx/quantize.ts). Node only (the calibration runs on onnxruntime-node).
import { DensePoseError } from '../errors.ts';
import { createSession, type SessionOptions } from '../runtime/onnx/session.ts';
import { quantizableActivations, quantizeConvsQdq, RangeObserver, withExtraOutputs } from '../runtime/onnx/quantize.ts';
import type { StageRunner } from './pipeline.ts';
import type { StageTensor } from './types.ts';

/** `runner`, also handing every DensePose head input to `record` (calibration). */
export function recordingDensePoseInputs(runner: StageRunner, record: (pooled: StageTensor) => void): StageRunner {
  return {
    run(stage, feeds) {
      if (stage === 'densepose' && feeds['pooled']) record(feeds['pooled']);
      return runner.run(stage, feeds);
    },
    dispose: () => runner.dispose(),
  };
}

/**
 * The int8 QDQ form of the DensePose head graph `head`, every Conv's input range taken (min/max) over the
 * `pooled` batches `[K,h,w,C]`. Throws `BAD_INPUT` when there is nothing to calibrate on.
 */
export async function quantizeDensePoseHead(head: Uint8Array, pooled: readonly StageTensor[], options: SessionOptions = {}): Promise<Uint8Array> {
  if (pooled.length === 0 || pooled.every((p) => p.shape[0] === 0)) {
    throw new DensePoseError('BAD_INPUT', 'int8 DensePose head: the calibration images gave no person boxes (give calibrationImages with people in them)');
  }
  const names = quantizableActivations(head);
  const session = await createSession(withExtraOutputs(head, names), { ...options, executionProvider: 'cpu' });
  const observer = new RangeObserver();
  try {
    for (const p of pooled) {
      if (p.shape[0] === 0) continue;
      const out = await session.run({ pooled: p }, names);
      for (const n of names) observer.observe(n, out[n]!.data as Float32Array);
    }
  } finally {
    await session.dispose();
  }
  return quantizeConvsQdq(head, observer.ranges);
}
