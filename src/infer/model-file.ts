// The model file: one safetensors checkpoint whose `__metadata__` holds the model config JSON under
// `config`, so a single file is enough to build and load the model.
import type { ModelConfig } from '../model/config.ts';
import { buildDensePoseRcnn, type DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { loadCheckpoint, saveCheckpoint } from '../runtime/checkpoint/index.ts';
import { CONFIG_METADATA_KEY, readModelConfig } from './model-config.ts';

export { CONFIG_METADATA_KEY, readModelConfig };

/** Write `rcnn`'s parameters and its config to one safetensors file (atomically). */
export async function saveModel(path: string, rcnn: DensePoseRcnn, metadata: Record<string, string> = {}): Promise<void> {
  await saveCheckpoint(path, rcnn.model, { ...metadata, [CONFIG_METADATA_KEY]: JSON.stringify(rcnn.config) });
}

/**
 * Build the model of a model file and load its weights (strict: every parameter must be there).
 * `config` overrides the one stored in the file. Needs an initialised tfjs backend.
 */
export function loadModel(path: string, config?: ModelConfig): DensePoseRcnn {
  const rcnn = buildDensePoseRcnn(config ?? readModelConfig(path), path);
  try {
    loadCheckpoint(path, rcnn.model);
  } catch (e) {
    rcnn.model.dispose();
    throw e;
  }
  return rcnn;
}
