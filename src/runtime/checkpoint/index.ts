import type * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../../errors.ts';
import type { ArrayValue, LoadReport, Module } from '../module.ts';
import type { NdArray } from './ndarray.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import { assertFiniteTensors } from './finite.ts';

export { assertFiniteTensors, countNonFinite } from './finite.ts';

export * from './ndarray.ts';
export { readNpy, writeNpy, encodeNpy } from './npy.ts';
export type { ReadNpyOptions } from './npy.ts';
export { readPickle, readDetectron2Pkl, PickleObject, PickleGlobal } from './pickle.ts';
export type { ReadPickleOptions, PickleValue } from './pickle.ts';
export { readSafetensors, writeSafetensors, encodeSafetensors } from './safetensors.ts';
export type { Safetensors, ReadSafetensorsOptions } from './safetensors.ts';
export {
  convertDetectron2StateDict,
  detectron2WeightKind,
  convWeightToHwio,
  convTransposeWeightToTfjs,
  linearWeightToTfjs,
  linearWeightFromNchwFlatten,
  DROPPED_KEY_PATTERNS,
  WEIGHT_KINDS,
} from './detectron2.ts';
export type { WeightKind, Detectron2ConvertOptions, Detectron2ConvertResult, ConvertedEntry } from './detectron2.ts';
export { permute } from './permute.ts';

/** `__metadata__` key naming the tensor layout; our checkpoints say `tfjs` (NHWC activations, HWIO conv weights). */
export const LAYOUT_KEY = 'densepose_ts.layout';
export const OUR_LAYOUT = 'tfjs';

/** Name → NdArray copy of tensors' values (float32 / int32 / bool as uint8). */
export async function tensorsToNdArrays(tensors: ReadonlyMap<string, tf.Tensor>): Promise<Map<string, NdArray>> {
  const out = new Map<string, NdArray>();
  for (const [name, t] of tensors) {
    const data = await t.data();
    if (data instanceof Float32Array) out.set(name, { dtype: 'float32', shape: [...t.shape], data });
    else if (data instanceof Int32Array) out.set(name, { dtype: 'int32', shape: [...t.shape], data });
    else if (data instanceof Uint8Array) out.set(name, { dtype: t.dtype === 'bool' ? 'bool' : 'uint8', shape: [...t.shape], data });
    else throw new DensePoseError('UNSUPPORTED', `tensor "${name}" has dtype ${t.dtype}, which checkpoints do not store`);
  }
  return out;
}

/**
 * Save `module`'s parameters (names as `stateDict()` gives them, our layout) to a safetensors file,
 * atomically. `metadata` is stored as `__metadata__` together with the layout tag.
 */
export async function saveCheckpoint(path: string, module: Module, metadata: Record<string, string> = {}): Promise<void> {
  const arrays = await tensorsToNdArrays(module.stateDict());
  assertFiniteTensors(arrays, path, 'to save');
  writeSafetensors(path, arrays, { ...metadata, [LAYOUT_KEY]: OUR_LAYOUT });
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Throw on any missing, unexpected or wrong-shaped tensor (the error names the file and the tensors). @default true */
  strict?: boolean;
}

/** What {@link loadCheckpoint} did. */
export interface LoadCheckpointResult extends LoadReport {
  metadata: Record<string, string>;
}

/** An NdArray as the Module's loader takes it: int64/bool widened to types tfjs stores. */
function toArrayValue(name: string, a: NdArray, where: string): ArrayValue {
  if (a.data instanceof BigInt64Array) {
    const out = new Int32Array(a.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = a.data[i]!;
      if (v > 2147483647n || v < -2147483648n) {
        throw new DensePoseError('UNSUPPORTED', `tensor "${name}": int64 value ${v} does not fit int32`, { where });
      }
      out[i] = Number(v);
    }
    return { shape: a.shape, data: out };
  }
  return { shape: a.shape, data: a.data };
}

/** Prefix of optimiser state inside a training checkpoint (`train`'s `checkpoints/model_N.safetensors`); model tensors keep their own names. */
export const OPTIMIZER_STATE_PREFIX = '__optimizer__.';

/**
 * Load a safetensors checkpoint into `module` by name (a training checkpoint's optimiser entries are skipped, so it loads like a model file). Shapes are checked against the module's parameters;
 * with `strict` (default) any missing/unexpected/mismatched tensor throws a DensePoseError naming the file
 * and each tensor. A file tagged with another layout (e.g. unconverted detectron2 weights) is refused.
 */
export function loadCheckpoint(path: string, module: Module, options: LoadCheckpointOptions = {}): LoadCheckpointResult {
  const { tensors, metadata } = readSafetensors(path);
  const layout = metadata[LAYOUT_KEY];
  if (layout !== undefined && layout !== OUR_LAYOUT) {
    throw new DensePoseError('BAD_FILE', `checkpoint layout is "${layout}", expected "${OUR_LAYOUT}" (convert it with \`densepose convert\`)`, { where: path });
  }
  assertFiniteTensors(tensors, path);
  const state = new Map<string, ArrayValue>();
  for (const [name, a] of tensors) if (!name.startsWith(OPTIMIZER_STATE_PREFIX)) state.set(name, toArrayValue(name, a, path));
  const report = module.loadStateDict(state, { strict: options.strict ?? true, source: path });
  return { ...report, metadata };
}
