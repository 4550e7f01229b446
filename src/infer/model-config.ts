// The config stored in a model file's safetensors metadata (no tfjs: reading it builds nothing).
import { DensePoseError } from '../errors.ts';
import { fromConfig, type ModelConfig } from '../model/config.ts';
import { readSafetensors } from '../runtime/checkpoint/index.ts';

/** `__metadata__` key holding the model config JSON. */
export const CONFIG_METADATA_KEY = 'config';

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
