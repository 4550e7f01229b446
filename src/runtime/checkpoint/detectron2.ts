import { DensePoseError } from '../../errors.ts';
import type { NdArray } from './ndarray.ts';
import { permute } from './permute.ts';

/**
 * How a detectron2 state-dict entry maps to our layout:
 * - `conv`: Conv2d weight OIHW `[out, in/groups, kh, kw]` → tfjs HWIO `[kh, kw, in/groups, out]`.
 * - `convTranspose`: ConvTranspose2d weight `[in, out, kh, kw]` → tfjs conv2dTranspose filter `[kh, kw, out, in]`.
 * - `linear`: Linear weight `[out, in]` → `[in, out]` (so `y = matMul(x, w) + b`).
 * - `keep`: everything else (biases, FrozenBatchNorm weight/bias/running_mean/running_var, GroupNorm affine).
 */
export const WEIGHT_KINDS = ['conv', 'convTranspose', 'linear', 'keep'] as const;
export type WeightKind = (typeof WEIGHT_KINDS)[number];

/**
 * Entries dropped on import, as bookkeeping rather than weights:
 * `num_batches_tracked` (PyTorch BatchNorm's step counter), `pixel_mean` / `pixel_std` (input normalisation,
 * which our configs hold), and `anchor_generator.cell_anchors.*` (anchors old detectron2 versions saved;
 * they are recomputed from the config). Top-level keys beside `"model"` (`__author__`, `matching_heuristics`,
 * optimizer/scheduler/iteration) never reach here: `readDetectron2Pkl` returns only the model dict.
 */
export const DROPPED_KEY_PATTERNS: readonly RegExp[] = [
  /(^|\.)num_batches_tracked$/,
  /^pixel_(mean|std)$/,
  /(^|\.)anchor_generator\.cell_anchors(\.|$)/,
];

/**
 * detectron2's layer kind for a state-dict entry, from its name and rank: rank-4 `.weight` → conv,
 * except the DensePose/keypoint predictors' `*_lowres.weight` and any `deconv*.weight`, which are ConvTranspose2d;
 * rank-2 `.weight` → linear; everything else kept.
 */
export function detectron2WeightKind(name: string, arr: NdArray): WeightKind {
  if (!name.endsWith('.weight')) return 'keep';
  if (arr.shape.length === 4) return /(_lowres|(^|\.)deconv[^.]*)\.weight$/.test(name) ? 'convTranspose' : 'conv';
  if (arr.shape.length === 2) return 'linear';
  return 'keep';
}

/** Options of {@link convertDetectron2StateDict}. */
export interface Detectron2ConvertOptions {
  /** Layer kind of each entry. @default detectron2WeightKind */
  kindOf?: (name: string, arr: NdArray) => WeightKind;
  /**
   * Linear layers fed by a flattened NCHW RoI feature, name → its `[C, H, W]`: their input dimension is
   * reordered from (C, H, W) to (H, W, C), so they apply to a flatten of our NHWC feature. A size of 0
   * is inferred from the weight's input width and the other two.
   * @default { 'roi_heads.box_head.fc1.weight': [0, 7, 7] } (detectron2's FastRCNNConvFCHead after a 7×7 RoIAlign), applied only where present
   */
  flattenedInputs?: Record<string, readonly [number, number, number]>;
  /** Further names to drop, besides {@link DROPPED_KEY_PATTERNS}. @default [] */
  drop?: readonly RegExp[];
}

/** One converted entry, for reports. */
export interface ConvertedEntry {
  name: string;
  kind: WeightKind;
  from: number[];
  to: number[];
  /** `[C, H, W]` when the input dimension was reordered for an NHWC flatten. */
  flattenedFrom?: [number, number, number];
}

/** Result of {@link convertDetectron2StateDict}. */
export interface Detectron2ConvertResult {
  /** name → tensor in our layout, same names and order as the input (minus dropped entries). */
  tensors: Map<string, NdArray>;
  entries: ConvertedEntry[];
  /** Names that were dropped. */
  dropped: string[];
}

/** Conv2d weight OIHW `[out, in, kh, kw]` → HWIO `[kh, kw, in, out]`. */
export function convWeightToHwio(w: NdArray, what = 'conv weight'): NdArray {
  return permute(w, [2, 3, 1, 0], what);
}

/** ConvTranspose2d weight `[in, out, kh, kw]` → tfjs conv2dTranspose filter `[kh, kw, out, in]`. */
export function convTransposeWeightToTfjs(w: NdArray, what = 'conv-transpose weight'): NdArray {
  return permute(w, [2, 3, 1, 0], what);
}

/** Linear weight `[out, in]` → `[in, out]`. */
export function linearWeightToTfjs(w: NdArray, what = 'linear weight'): NdArray {
  return permute(w, [1, 0], what);
}

/**
 * Linear weight `[out, C·H·W]` whose input is a flattened NCHW feature → `[H·W·C, out]`, the weight for
 * the same layer applied to a flattened NHWC feature: row (h, w, c) of the result is column (c, h, w) of the input.
 */
export function linearWeightFromNchwFlatten(w: NdArray, c: number, h: number, wd: number, what = 'linear weight'): NdArray {
  const [out, inp] = w.shape;
  if (w.shape.length !== 2 || inp !== c * h * wd) {
    throw new DensePoseError('SHAPE_MISMATCH', `${what}: shape [${w.shape.join(', ')}] is not [out, C·H·W] for C=${c}, H=${h}, W=${wd}`);
  }
  // [out, C, H, W] → [H, W, C, out]
  const p = permute({ dtype: w.dtype, shape: [out!, c, h, wd], data: w.data }, [2, 3, 1, 0], what);
  return { dtype: p.dtype, shape: [h * wd * c, out!], data: p.data };
}

const DEFAULT_FLATTENED: Record<string, readonly [number, number, number]> = { 'roi_heads.box_head.fc1.weight': [0, 7, 7] };

/**
 * Convert a detectron2 state dict (NCHW / OIHW, as `readDetectron2Pkl` returns it) to our tfjs layout
 * (NHWC / HWIO): see {@link WeightKind} for each rule and {@link DROPPED_KEY_PATTERNS} for what is dropped.
 * Names are unchanged. Throws SHAPE_MISMATCH naming the entry when a shape does not fit its kind.
 */
export function convertDetectron2StateDict(sd: ReadonlyMap<string, NdArray>, options: Detectron2ConvertOptions = {}): Detectron2ConvertResult {
  const kindOf = options.kindOf ?? detectron2WeightKind;
  const flattened = options.flattenedInputs ?? DEFAULT_FLATTENED;
  const drop = [...DROPPED_KEY_PATTERNS, ...(options.drop ?? [])];
  const tensors = new Map<string, NdArray>();
  const entries: ConvertedEntry[] = [];
  const dropped: string[] = [];
  for (const [name, arr] of sd) {
    if (drop.some((r) => r.test(name))) {
      dropped.push(name);
      continue;
    }
    const kind = kindOf(name, arr);
    const what = `"${name}"`;
    const needRank = kind === 'conv' || kind === 'convTranspose' ? 4 : kind === 'linear' ? 2 : undefined;
    if (needRank !== undefined && arr.shape.length !== needRank) {
      throw new DensePoseError('SHAPE_MISMATCH', `${what}: a ${kind} weight must have rank ${needRank}, got shape [${arr.shape.join(', ')}]`);
    }
    let out: NdArray = arr;
    let flattenedFrom: [number, number, number] | undefined;
    if (kind === 'conv') out = convWeightToHwio(arr, what);
    else if (kind === 'convTranspose') out = convTransposeWeightToTfjs(arr, what);
    else if (kind === 'linear') {
      const chw = flattened[name];
      if (chw) {
        const inp = arr.shape[1]!;
        const known = chw.filter((d) => d > 0).reduce((a, b) => a * b, 1);
        const fill = inp / known;
        if (!Number.isInteger(fill)) {
          throw new DensePoseError('SHAPE_MISMATCH', `${what}: input width ${inp} is not a multiple of the given feature size [${chw.join(', ')}]`);
        }
        flattenedFrom = chw.map((d) => (d > 0 ? d : fill)) as [number, number, number];
        out = linearWeightFromNchwFlatten(arr, flattenedFrom[0], flattenedFrom[1], flattenedFrom[2], what);
      } else {
        out = linearWeightToTfjs(arr, what);
      }
    }
    tensors.set(name, out);
    entries.push({ name, kind, from: [...arr.shape], to: [...out.shape], ...(flattenedFrom ? { flattenedFrom } : {}) });
  }
  return { tensors, entries, dropped };
}
