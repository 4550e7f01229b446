// The model's stages (stages.ts) as ONNX graphs, weights included, FrozenBN folded.
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { exportOnnx } from '../runtime/onnx/export.ts';
import type { Module } from '../runtime/module.ts';
import { stageDefinitions, type StageDefinition } from './stages.ts';
import { STAGES, type StageName } from './stage-names.ts';

/** ModelProto bytes of each stage. */
export type StageGraphs = Record<StageName, Uint8Array>;

/** Export the three stages of `rcnn` (see {@link stageDefinitions} for their inputs and outputs). */
export function exportStages(rcnn: DensePoseRcnn): StageGraphs {
  const defs = stageDefinitions(rcnn);
  const graphs = {} as StageGraphs;
  for (const stage of STAGES) {
    graphs[stage] = exportStage(rcnn.model, defs[stage]);
  }
  return graphs;
}

/** One stage definition as an ONNX graph, with the weights of `module` (the model, or the branch the stage belongs to). */
export function exportStage(module: Module, d: StageDefinition): Uint8Array {
  return exportOnnx(module, (ex, inputs) => d.forward(ex, inputs), { inputs: d.inputs, outputNames: d.outputs, docString: d.doc });
}
