import { DensePoseError, unknownKey, unknownValue } from '../../errors.ts';

/** Head bodies: detectron2's `DensePoseV1ConvXHead`, `DensePoseDeepLabHead`, and the paper's conv tower + ASPP. */
export const HEAD_KINDS = ['v1convx', 'deeplab', 'aspp'] as const;
export type HeadKind = (typeof HEAD_KINDS)[number];

/** Predictor upsampling: ConvTranspose 4×4 s2 (detectron2) or Scale Transfer Layer (depth-to-space). */
export const UPSAMPLE_KINDS = ['deconv', 'stl'] as const;
export type UpsampleKind = (typeof UPSAMPLE_KINDS)[number];

export const NORM_KINDS = ['', 'GN'] as const;

/**
 * UV confidence model (detectron2 `UV_CONFIDENCE.TYPE`, Neverova et al. 2019): '' none; `iid_iso` (the zoo's
 * WC1 models) predicts σ₂; `indep_aniso` (WC2) predicts σ₂, κ_u, κ_v.
 */
export const UV_CONFIDENCE_KINDS = ['', 'iid_iso', 'indep_aniso'] as const;
export type UvConfidenceKind = (typeof UV_CONFIDENCE_KINDS)[number];
export type HeadNorm = (typeof NORM_KINDS)[number];

/** ASPP block of the paper's head (and the options detectron2's DeepLab head fixes). */
export interface AsppConfig {
  /** Dilation rates of the 3×3 branches. @default [6, 12, 18] */
  rates: number[];
  /** Global average pooling branch. @default true */
  imagePooling: boolean;
  /** Norm after each branch conv (GroupNorm 32 groups, as detectron2's ASPP). @default 'GN' */
  norm: HeadNorm;
}

/** Loss weights (detectron2 `INDEX_WEIGHTS`, `PART_WEIGHTS`, `POINT_REGRESSION_WEIGHTS`). */
export interface DensePoseLossWeights {
  /** Coarse segmentation S. @default 5.0 */
  segm: number;
  /** Fine part index I. @default 1.0 */
  part: number;
  /** U and V smooth-L1 (each). @default 0.01 */
  points: number;
}

/**
 * Every choice of the DensePose branch (decoder → RoI pooling → head body → predictor → losses).
 * Defaults are detectron2's `densepose_rcnn_R_50_FPN_s1x`. The JSON form is this object under the key
 * `densepose` of a config file, partial: missing fields take the defaults (see {@link densePoseConfigFromJson}).
 */
export interface DensePoseHeadConfig {
  /** Channels of the FPN maps fed in (FPN `OUT_CHANNELS`). @default 256 */
  inChannels: number;
  /** Fuse P2..P5 into one stride-4 map first (`DECODER_ON`); otherwise pool from the box's FPN level. @default true */
  decoder: boolean;
  /** @default 256 */
  decoderConvDims: number;
  /** Output channels of the decoder's 1×1 predictor (`DECODER_NUM_CLASSES`). @default 256 */
  decoderNumClasses: number;
  /** @default '' */
  decoderNorm: HeadNorm;
  /** FPN strides of the decoder inputs, finest first (P2..P5). @default [4, 8, 16, 32] */
  featureStrides: number[];
  /** RoI size `[h, w]`: 28×28 detectron2, 14×14 legacy, 88×64 ours. @default [28, 28] */
  poolerResolution: [number, number];
  /** @default 2 */
  poolerSamplingRatio: number;
  /** RoIAlign half-pixel alignment (`ROIAlignV2`). @default false */
  poolerAligned: boolean;
  /** @default 'v1convx' */
  head: HeadKind;
  /** @default 512 */
  convHeadDim: number;
  /** @default 3 */
  convHeadKernel: number;
  /** @default 8 */
  numStackedConvs: number;
  /** Norm of the DeepLab head's convs (`DEEPLAB.NORM`). @default 'GN' */
  deeplabNorm: HeadNorm;
  /** The `aspp` head's ASPP block. */
  aspp: AsppConfig;
  /** @default 'deconv' */
  upsample: UpsampleKind;
  /** ConvTranspose kernel (`DECONV_KERNEL`), stride 2, padding k/2 − 1. @default 4 */
  deconvKernel: number;
  /** Depth-to-space block size r of the STL. @default 2 */
  stlFactor: number;
  /** Kernel of the conv that makes the STL's C·r² channels. @default 3 */
  stlKernel: number;
  /** Bilinear up-scaling after the upsampler (`UP_SCALE`); 1 = none. @default 2 */
  upScale: number;
  /** S channels: 2 (foreground/background) or 15 (background + 14 coarse parts). @default 2 */
  numCoarseSegmChannels: 2 | 15;
  /** Charts; I/U/V have numPatches + 1 channels. @default 24 */
  numPatches: number;
  /** UV confidence outputs (`UV_CONFIDENCE.ENABLED` + `TYPE`). @default '' */
  uvConfidence: UvConfidenceKind;
  /** Fine and coarse segmentation confidences (`SEGM_CONFIDENCE.ENABLED`, the zoo's …M models). @default false */
  segmConfidence: boolean;
  /** `SEGM_CONFIDENCE.EPSILON`: added to the softplus of the segmentation confidences. @default 0.01 */
  segmConfidenceEpsilon: number;
  lossWeights: DensePoseLossWeights;
}

export const DEFAULT_DENSEPOSE_CONFIG: Readonly<DensePoseHeadConfig> = Object.freeze({
  inChannels: 256,
  decoder: true,
  decoderConvDims: 256,
  decoderNumClasses: 256,
  decoderNorm: '',
  featureStrides: [4, 8, 16, 32],
  poolerResolution: [28, 28],
  poolerSamplingRatio: 2,
  poolerAligned: false,
  head: 'v1convx',
  convHeadDim: 512,
  convHeadKernel: 3,
  numStackedConvs: 8,
  deeplabNorm: 'GN',
  aspp: { rates: [6, 12, 18], imagePooling: true, norm: 'GN' },
  upsample: 'deconv',
  deconvKernel: 4,
  stlFactor: 2,
  stlKernel: 3,
  upScale: 2,
  numCoarseSegmChannels: 2,
  numPatches: 24,
  uvConfidence: '',
  segmConfidence: false,
  segmConfidenceEpsilon: 0.01,
  lossWeights: { segm: 5.0, part: 1.0, points: 0.01 },
} satisfies DensePoseHeadConfig) as Readonly<DensePoseHeadConfig>;

/** The two reference configurations of DESIGN §3 and detectron2's DeepLab variant. */
export const DENSEPOSE_PRESETS = {
  /** detectron2 `densepose_rcnn_R_50_FPN_s1x`: decoder, RoIAlign 28×28 → 112×112, S 2 ch. */
  detectron2: {},
  /**
   * Original DensePose-RCNN: 14×14 from the box's FPN level → 56×56, S 15 ch, weights S 2 / I 0.3 / UV 0.1.
   * Pools aligned (ROIAlignV2), unlike detectron2's `densepose_rcnn_*_legacy` yaml (ROIAlign, aligned=False):
   * the zoo's legacy configs (configs/densepose_rcnn_R_*_FPN_s1x_legacy.json) set `poolerAligned: false`.
   */
  legacy: {
    decoder: false,
    poolerResolution: [14, 14],
    poolerAligned: true,
    numCoarseSegmChannels: 15,
    lossWeights: { segm: 2.0, part: 0.3, points: 0.1 },
  },
  /** detectron2 `densepose_rcnn_R_50_FPN_DL_s1x`: ASPP (6/12/56, GN) then 8 GN convs. */
  deeplab: { head: 'deeplab' },
} as const satisfies Record<string, Partial<DensePoseHeadConfig>>;
export type DensePosePreset = keyof typeof DENSEPOSE_PRESETS;

/** Deep-partial of the config, as it appears in JSON. */
export type DensePoseHeadConfigInput = Partial<Omit<DensePoseHeadConfig, 'aspp' | 'lossWeights' | 'poolerResolution'>> & {
  aspp?: Partial<AsppConfig>;
  lossWeights?: Partial<DensePoseLossWeights>;
  poolerResolution?: readonly [number, number] | readonly number[];
  /** Start from a preset before applying the other fields. */
  preset?: DensePosePreset;
};

/** Defaults ← preset ← fields; validated. */
export function resolveDensePoseConfig(input: DensePoseHeadConfigInput = {}, where = 'densepose'): DensePoseHeadConfig {
  const presetName = input.preset;
  if (presetName !== undefined && !(presetName in DENSEPOSE_PRESETS)) throw unknownValue(`${where}.preset`, presetName, Object.keys(DENSEPOSE_PRESETS), 'BAD_CONFIG');
  const preset: DensePoseHeadConfigInput = presetName ? (DENSEPOSE_PRESETS[presetName] as DensePoseHeadConfigInput) : {};
  const d = DEFAULT_DENSEPOSE_CONFIG;
  const pick = <K extends keyof DensePoseHeadConfigInput>(k: K) => input[k] ?? preset[k];
  const { preset: _p, aspp: _a, lossWeights: _l, poolerResolution: _r, ...flat } = { ...preset, ...input };
  const res = pick('poolerResolution') ?? d.poolerResolution;
  const cfg: DensePoseHeadConfig = {
    ...d,
    ...(flat as Partial<DensePoseHeadConfig>),
    featureStrides: [...(input.featureStrides ?? preset.featureStrides ?? d.featureStrides)],
    poolerResolution: [res[0]!, res[1]!],
    aspp: { ...d.aspp, ...preset.aspp, ...input.aspp, rates: [...(input.aspp?.rates ?? preset.aspp?.rates ?? d.aspp.rates)] },
    lossWeights: { ...d.lossWeights, ...preset.lossWeights, ...input.lossWeights },
  };
  validateDensePoseConfig(cfg, where);
  return cfg;
}

/** Read the `densepose` section of a parsed config file (`{ "densepose": {...} }`) or the section itself. */
export function densePoseConfigFromJson(json: unknown, where = 'config'): DensePoseHeadConfig {
  if (typeof json !== 'object' || json === null) throw new DensePoseError('BAD_CONFIG', `${where}: expected an object`);
  const section = 'densepose' in json ? (json as { densepose: unknown }).densepose : json;
  if (typeof section !== 'object' || section === null) throw new DensePoseError('BAD_CONFIG', `${where}.densepose: expected an object`);
  const known = new Set<string>([...Object.keys(DEFAULT_DENSEPOSE_CONFIG), 'preset']);
  for (const k of Object.keys(section)) if (!known.has(k)) throw unknownKey('densepose', k, [...known], where);
  return resolveDensePoseConfig(section as DensePoseHeadConfigInput, `${where}.densepose`);
}

function positiveInt(v: unknown, name: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new DensePoseError('BAD_CONFIG', `${name} must be a positive integer, got ${JSON.stringify(v)}`);
}

function oneOf<V extends string>(v: unknown, name: string, valid: readonly V[]): void {
  if (!valid.includes(v as V)) throw unknownValue(name, String(v), valid.map((x) => (x === '' ? '""' : x)), 'BAD_CONFIG');
}

export function validateDensePoseConfig(c: DensePoseHeadConfig, where = 'densepose'): void {
  for (const k of ['inChannels', 'decoderConvDims', 'decoderNumClasses', 'poolerSamplingRatio', 'convHeadDim', 'convHeadKernel', 'deconvKernel', 'stlFactor', 'stlKernel', 'upScale', 'numPatches'] as const) {
    if (k === 'poolerSamplingRatio' && c[k] === 0) continue;
    positiveInt(c[k], `${where}.${k}`);
  }
  if (!Number.isInteger(c.numStackedConvs) || c.numStackedConvs < 0) throw new DensePoseError('BAD_CONFIG', `${where}.numStackedConvs must be an integer ≥ 0, got ${c.numStackedConvs}`);
  if (c.convHeadKernel % 2 !== 1 || c.stlKernel % 2 !== 1) throw new DensePoseError('BAD_CONFIG', `${where}.convHeadKernel and stlKernel must be odd, got ${c.convHeadKernel}, ${c.stlKernel}`);
  if (c.deconvKernel % 2 !== 0) throw new DensePoseError('BAD_CONFIG', `${where}.deconvKernel must be even (padding k/2 − 1), got ${c.deconvKernel}`);
  c.poolerResolution.forEach((v, i) => positiveInt(v, `${where}.poolerResolution[${i}]`));
  if (c.poolerResolution.length !== 2) throw new DensePoseError('BAD_CONFIG', `${where}.poolerResolution must be [h, w]`);
  oneOf(c.head, `${where}.head`, HEAD_KINDS);
  oneOf(c.upsample, `${where}.upsample`, UPSAMPLE_KINDS);
  oneOf(c.decoderNorm, `${where}.decoderNorm`, NORM_KINDS);
  oneOf(c.deeplabNorm, `${where}.deeplabNorm`, NORM_KINDS);
  oneOf(c.aspp.norm, `${where}.aspp.norm`, NORM_KINDS);
  oneOf(c.uvConfidence, `${where}.uvConfidence`, UV_CONFIDENCE_KINDS);
  if (typeof c.segmConfidence !== 'boolean') throw new DensePoseError('BAD_CONFIG', `${where}.segmConfidence must be true or false, got ${JSON.stringify(c.segmConfidence)}`);
  if (typeof c.segmConfidenceEpsilon !== 'number' || !(c.segmConfidenceEpsilon >= 0)) throw new DensePoseError('BAD_CONFIG', `${where}.segmConfidenceEpsilon must be a number ≥ 0, got ${JSON.stringify(c.segmConfidenceEpsilon)}`);
  if (c.numCoarseSegmChannels !== 2 && c.numCoarseSegmChannels !== 15) throw unknownValue(`${where}.numCoarseSegmChannels`, String(c.numCoarseSegmChannels), ['2', '15'], 'BAD_CONFIG');
  if (c.aspp.rates.length === 0) throw new DensePoseError('BAD_CONFIG', `${where}.aspp.rates must list at least one dilation rate`);
  c.aspp.rates.forEach((r, i) => positiveInt(r, `${where}.aspp.rates[${i}]`));
  if (c.featureStrides.length === 0) throw new DensePoseError('BAD_CONFIG', `${where}.featureStrides must not be empty`);
  c.featureStrides.forEach((s, i) => {
    positiveInt(s, `${where}.featureStrides[${i}]`);
    if (i > 0 && s !== 2 * c.featureStrides[i - 1]!) throw new DensePoseError('BAD_CONFIG', `${where}.featureStrides must double level by level, got [${c.featureStrides.join(', ')}]`);
  });
  for (const k of ['segm', 'part', 'points'] as const) {
    const w = c.lossWeights[k];
    if (typeof w !== 'number' || !(w >= 0)) throw new DensePoseError('BAD_CONFIG', `${where}.lossWeights.${k} must be a number ≥ 0, got ${JSON.stringify(w)}`);
  }
  const gnChannels: [string, number, HeadNorm][] = [
    ['decoderConvDims', c.decoderConvDims, c.decoderNorm],
    ['convHeadDim', c.convHeadDim, c.head === 'deeplab' ? 'GN' : c.head === 'aspp' ? c.aspp.norm : ''],
  ];
  for (const [name, ch, norm] of gnChannels) {
    if (norm === 'GN' && ch % 32 !== 0) throw new DensePoseError('BAD_CONFIG', `${where}.${name} = ${ch} must be a multiple of 32 for GroupNorm(32)`);
  }
}

/** Output size `[h, w]` of the predictor for a config. */
export function predictorOutputSize(c: DensePoseHeadConfig): [number, number] {
  const up = (c.upsample === 'deconv' ? 2 : c.stlFactor) * c.upScale;
  return [c.poolerResolution[0] * up, c.poolerResolution[1] * up];
}
