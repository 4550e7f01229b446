// The model file: one safetensors checkpoint whose `__metadata__` holds the model config JSON under
// `config`, so a single file is enough to build and load the model.
import { saveCheckpoint, loadCheckpoint, readSafetensors } from '../runtime/checkpoint/index.ts';
import { DensePoseError } from '../errors.ts';
import { fromConfig, type ModelConfig } from '../model/config.ts';
import { buildDensePoseRcnn, type DensePoseRcnn } from '../model/densepose-rcnn.ts';

/** `__metadata__` key holding the model config JSON. */
export const CONFIG_METADATA_KEY = 'config';

/** Write `rcnn`'s parameters and its config to one safetensors file (atomically). */
export async function saveModel(path: string, rcnn: DensePoseRcnn, metadata: Record<string, string> = {}): Promise<void> {
  await saveCheckpoint(path, rcnn.model, { ...metadata, [CONFIG_METADATA_KEY]: JSON.stringify(rcnn.config) });
}

/** The config stored in a model file, validated; `BAD_FILE` naming the file when there is none. */
export function readModelConfig(path: string): ModelConfig {
  const { metadata } = readSafetensors(path);
  const text = metadata[CONFIG_METADATA_KEY];
  if (text === undefined) {
    throw new DensePoseError('MISSING_KEY', `model file has no "${CONFIG_METADATA_KEY}" entry in its safetensors metadata; pass its model config: --config CFG.json (densepose infer), or the "config" option of createDensePose`, { where: path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `metadata "${CONFIG_METADATA_KEY}" is not valid JSON: ${(e as Error).message}`, { where: path, cause: e });
  }
  return fromConfig(json, `${path} (metadata "${CONFIG_METADATA_KEY}")`);
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
