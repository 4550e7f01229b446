import { readJsonFile } from '../io.ts';
import { fromConfig, type ModelConfig } from './config.ts';
import { GeneralizedRcnn } from './detector.ts';
import { DensePoseBranch } from './densepose/branch.ts';
import { densePoseConfigFromJson } from './densepose/config.ts';

/** A DensePose R-CNN: the detector with the DensePose branch mounted under `roi_heads` (detectron2 names). */
export interface DensePoseRcnn {
  /** Root module: every parameter, detectron2 names (`roi_heads.densepose_head.…`). */
  readonly model: GeneralizedRcnn;
  /** Handle on the DensePose branch; its modules are children of `model.roi_heads`. */
  readonly densepose: DensePoseBranch;
  readonly config: ModelConfig;
}

/**
 * Build detector + DensePose branch from a model config (`configs/*.json`). The branch's decoder,
 * head and predictor are attached to `roi_heads`, so checkpoints load by detectron2's names.
 */
export function buildDensePoseRcnn(config: ModelConfig, where = 'model config'): DensePoseRcnn {
  let densepose: DensePoseBranch | undefined;
  const model = new GeneralizedRcnn(config, {
    extendRoiHeads: (roiHeads) => {
      densepose = new DensePoseBranch(densePoseConfigFromJson({ densepose: config.densepose ?? {} }, where));
      for (const [name, child] of densepose.namedChildren()) roiHeads.attach(name, child);
    },
  });
  return { model, densepose: densepose!, config };
}

/** Read a model config file (JSON) and build the model. */
export function loadDensePoseRcnnConfig(path: string): ModelConfig {
  return fromConfig(readJsonFile(path, 'model config'), path);
}
