// The model's stages (stages.ts) as ONNX graphs, weights included, FrozenBN folded.
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { exportOnnx } from '../runtime/onnx/export.ts';
import { stageDefinitions } from './stages.ts';
import { STAGES, type StageName } from './stage-names.ts';

/** ModelProto bytes of each stage. */
export type StageGraphs = Record<StageName, Uint8Array>;

/** Export the three stages of `rcnn` (see {@link stageDefinitions} for their inputs and outputs). */
export function exportStages(rcnn: DensePoseRcnn): StageGraphs {
  const defs = stageDefinitions(rcnn);
  const graphs = {} as StageGraphs;
  for (const stage of STAGES) {
    const d = defs[stage];
    graphs[stage] = exportOnnx(rcnn.model, (ex, inputs) => d.forward(ex, inputs), { inputs: d.inputs, outputNames: d.outputs, docString: d.doc });
  }
  return graphs;
}
