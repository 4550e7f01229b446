import { convertDetectron2StateDict } from '../runtime/checkpoint/detectron2.ts';
import type { NdArray } from '../runtime/checkpoint/ndarray.ts';
import { readDetectron2Pkl } from '../runtime/checkpoint/pickle.ts';
import { isTorchZipCheckpoint, readDetectron2Pth } from '../runtime/checkpoint/torch.ts';
import type { ArrayValue, LoadReport } from '../runtime/module.ts';
import type { GeneralizedRcnn } from './detector.ts';

/** RoI heads a detector-only model may lack; their entries can be skipped with `skipAbsentHeads`. */
export const OPTIONAL_ROI_HEADS = ['densepose_head', 'densepose_predictor', 'decoder', 'mask_head', 'keypoint_head'] as const;

export interface LoadDetectron2Options {
  /**
   * Skip checkpoint entries under `roi_heads.<head>` for heads in {@link OPTIONAL_ROI_HEADS} that the model
   * has not attached (load a DensePose checkpoint into the bare detector). Everything else stays strict.
   * @default false
   */
  skipAbsentHeads?: boolean;
}

export interface Detectron2LoadReport extends LoadReport {
  /** Entries skipped by `skipAbsentHeads`. */
  skipped: string[];
  /** Entries dropped as bookkeeping (pixel_mean, num_batches_tracked, …). */
  dropped: string[];
}

/** Convert a detectron2 state dict (OIHW, NCHW-flatten FC) to our layout for `model` (fc1 input = its pooler size). */
export function convertForModel(model: GeneralizedRcnn, sd: ReadonlyMap<string, NdArray>): { tensors: Map<string, NdArray>; dropped: string[] } {
  const r = model.roi_heads.options.poolerResolution;
  const { tensors, dropped } = convertDetectron2StateDict(sd, { flattenedInputs: { 'roi_heads.box_head.fc1.weight': [0, r, r] } });
  return { tensors, dropped };
}

/** A detectron2 checkpoint's state dict: model-zoo `.pkl` (pickled numpy) or a `.pth` (torch.save zip), told apart by content. */
export function readDetectron2Checkpoint(path: string): Map<string, NdArray> {
  return isTorchZipCheckpoint(path) ? readDetectron2Pth(path) : readDetectron2Pkl(path);
}

/**
 * Load a detectron2 `.pkl` (model zoo form) or `.pth` into `model` by name, strictly: a checkpoint of another
 * architecture throws SHAPE_MISMATCH / MISSING_KEY / UNEXPECTED_KEY listing the first offending names and shapes.
 */
export function loadDetectron2(model: GeneralizedRcnn, pklPath: string, options: LoadDetectron2Options = {}): Detectron2LoadReport {
  const { tensors, dropped } = convertForModel(model, readDetectron2Checkpoint(pklPath));
  const skipped: string[] = [];
  if (options.skipAbsentHeads) {
    for (const name of [...tensors.keys()]) {
      const m = /^roi_heads\.([^.]+)\./.exec(name);
      if (m && (OPTIONAL_ROI_HEADS as readonly string[]).includes(m[1]!) && !model.roi_heads.child(m[1]!)) {
        tensors.delete(name);
        skipped.push(name);
      }
    }
  }
  const state = new Map<string, ArrayValue>();
  for (const [name, arr] of tensors) state.set(name, { shape: arr.shape, data: toLoadable(arr) });
  const report = model.loadStateDict(state, { strict: true, source: pklPath });
  return { ...report, skipped, dropped };
}

function toLoadable(arr: NdArray): ArrayValue['data'] {
  const d = arr.data;
  if (d instanceof BigInt64Array) return Float32Array.from(d, Number);
  return d;
}
