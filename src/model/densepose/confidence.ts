// Confidence outputs of detectron2's chart confidence predictor (the zoo's WC1/WC2 and …M models), on
// host arrays: the ONNX/tfjs stages output the raw upsampled maps; this applies what detectron2's
// `DensePoseChartConfidencePredictorMixin.forward` does after interpolation. No tfjs: the browser uses it.
import { DensePoseError } from '../../errors.ts';
import type { UvConfidenceKind } from './config.ts';

/** Confidence heads, with detectron2's layer names (`<name>_lowres` for the deconv predictor), also the ONNX output names. */
export const CONFIDENCE_HEADS = { sigma2: 'sigma_2', kappaU: 'kappa_u', kappaV: 'kappa_v', fineSegm: 'fine_segm_confidence', coarseSegm: 'coarse_segm_confidence' } as const;
export type ConfidenceHeadName = keyof typeof CONFIDENCE_HEADS;

/** The confidence heads a model has, in a fixed order. */
export function confidenceHeadNames(uv: UvConfidenceKind, segm: boolean): ConfidenceHeadName[] {
  const names: ConfidenceHeadName[] = [];
  if (uv === 'iid_iso') names.push('sigma2');
  if (uv === 'indep_aniso') names.push('sigma2', 'kappaU', 'kappaV');
  if (segm) names.push('fineSegm', 'coarseSegm');
  return names;
}

/**
 * Confidence maps NHWC `[K,H,W,C]` as detectron2's predictor returns them: `sigma2`, `kappaU`, `kappaV`
 * raw (C = P+1 charts; no activation at inference, as in detectron2); `fineSegm`, `coarseSegm`
 * (C = 1) = softplus(raw) + ε. `sigma1` is in detectron2's output structure but no predictor fills it.
 */
export type ConfidenceArrays = Partial<Record<ConfidenceHeadName, Float32Array>>;

/** PyTorch `F.softplus` (beta 1, threshold 20), rounded to float32. */
function softplus(x: number): number {
  return Math.fround(x > 20 ? x : Math.log1p(Math.exp(x)));
}

/**
 * detectron2's confidence post-processing, in place: segmentation confidences become softplus(raw) + ε and
 * scale every channel of `fineSegm` / `coarseSegm` at their pixel (which is what the argmax then sees).
 * `fineSegm` `[K·H·W·P]`, `coarseSegm` `[K·H·W·S]`; `raw` maps as in {@link ConfidenceArrays}, before activation.
 */
export function applyConfidences(
  maps: { fineSegm: Float32Array; coarseSegm: Float32Array; patchChannels: number; segmChannels: number },
  raw: ConfidenceArrays,
  epsilon: number,
): ConfidenceArrays {
  const out: ConfidenceArrays = { ...raw };
  const pixels = maps.fineSegm.length / maps.patchChannels;
  const scale = (conf: Float32Array | undefined, target: Float32Array, channels: number, name: ConfidenceHeadName): Float32Array | undefined => {
    if (!conf) return undefined;
    if (conf.length !== pixels) throw new DensePoseError('SHAPE_MISMATCH', `confidence "${name}": ${conf.length} values for ${pixels} pixels (expected 1 channel)`);
    const c = new Float32Array(pixels);
    for (let i = 0; i < pixels; i++) {
      const s = Math.fround(softplus(conf[i]!) + epsilon);
      c[i] = s;
      for (let k = i * channels; k < (i + 1) * channels; k++) target[k] = Math.fround(target[k]! * s);
    }
    return c;
  };
  const fine = scale(raw.fineSegm, maps.fineSegm, maps.patchChannels, 'fineSegm');
  const coarse = scale(raw.coarseSegm, maps.coarseSegm, maps.segmChannels, 'coarseSegm');
  if (fine) out.fineSegm = fine;
  if (coarse) out.coarseSegm = coarse;
  return out;
}
