// The tfjs fallback: the stage definitions of stages.ts (the same the ONNX graphs are exported from)
// run on tfjs, so the pipeline (proposals, pooling, NMS, post-processing) is shared and the two backends
// can be compared. Each intermediate tensor is freed after its last use (tfjs-liveness.ts), so a zoo
// model's body stage at 800×1333 fits in wasm's 4 GB.
import * as tf from '@tensorflow/tfjs-core';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import type { StageRunner } from './pipeline.ts';
import { DensePoseError } from '../errors.ts';
import { stageDefinitions } from './stages.ts';
import { planUses, runFreeing, type UsePlan } from './tfjs-liveness.ts';
import type { StageTensor } from './types.ts';

/** Stage runner on the current tfjs backend: the stage definitions' forwards. Every tensor it makes is freed before `run` resolves. */
export function createTfjsStageRunner(rcnn: DensePoseRcnn, options: { disposeModel?: boolean } = {}): StageRunner {
  const defs = stageDefinitions(rcnn);
  const plans = new Map<string, UsePlan>();
  return {
    async run(stage, feeds) {
      const d = defs[stage];
      const forward = d.forward.bind(d);
      let plan = plans.get(stage);
      if (!plan) plans.set(stage, (plan = planUses(forward, d.inputs.length)));
      for (const i of d.inputs) if (!feeds[i.name]) throw new DensePoseError('MISSING_KEY', `stage "${stage}": no feed for input "${i.name}"`);
      const out = runFreeing(forward, plan, d.inputs.map((i) => tf.tensor(feeds[i.name]!.data, [...feeds[i.name]!.shape], 'float32')));
      try {
        const data = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
        const result: Record<string, StageTensor> = {};
        d.outputs.forEach((n, i) => (result[n] = { data: data[i]!, shape: out[i]!.shape }));
        return result;
      } finally {
        tf.dispose(out);
      }
    },
    async dispose() {
      if (options.disposeModel ?? true) rcnn.model.dispose();
    },
  };
}
