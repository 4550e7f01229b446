// The tfjs fallback: the stage definitions of stages.ts (the same the ONNX graphs are exported from)
// run on tfjs, so the pipeline (proposals, pooling, NMS, post-processing) is shared and the two backends
// can be compared.
import * as tf from '@tensorflow/tfjs-core';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';
import type { StageRunner } from './pipeline.ts';
import { DensePoseError } from '../errors.ts';
import { stageDefinitions } from './stages.ts';
import type { StageTensor } from './types.ts';

/** Stage runner on the current tfjs backend: the stage definitions' forwards. Every tensor it makes is freed before `run` resolves. */
export function createTfjsStageRunner(rcnn: DensePoseRcnn, options: { disposeModel?: boolean } = {}): StageRunner {
  const ex = new TfExecutor();
  const defs = stageDefinitions(rcnn);
  return {
    async run(stage, feeds) {
      const d = defs[stage];
      const out = tf.tidy(() => {
        const inputs = d.inputs.map((i) => {
          const feed = feeds[i.name];
          if (!feed) throw new DensePoseError('MISSING_KEY', `stage "${stage}": no feed for input "${i.name}"`);
          return tf.tensor(feed.data, [...feed.shape], 'float32');
        });
        return d.forward<tf.Tensor>(ex, inputs);
      });
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
