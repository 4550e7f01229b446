import { DensePoseError, unknownKey, unknownValue } from '../errors.ts';

/**
 * Typed model configuration: what detectron2 keeps under `MODEL.*` / `INPUT.*` / `TEST.*`, with our
 * names. Constructors take these `XxxOptions`; {@link fromConfig} builds and validates them from JSON
 * (the files under `configs/`). Defaults are detectron2's (`Base-RCNN-FPN.yaml`).
 */

/** ResNet depths and their blocks per stage (res2..res5). */
export const RESNET_DEPTHS = { 18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3] } as const;
export type ResNetDepth = keyof typeof RESNET_DEPTHS;
/** Norm after each backbone conv: FrozenBN (detectron2 default) or GroupNorm (trainable). */
export const BACKBONE_NORMS = ['FrozenBN', 'GN'] as const;
export type BackboneNorm = (typeof BACKBONE_NORMS)[number];
/** `basic`: 7×7/2 conv + 3×3/2 max pool; `deep`: three 3×3 convs (SENet-154) + max pool. */
export const STEM_KINDS = ['basic', 'deep'] as const;
export type StemKind = (typeof STEM_KINDS)[number];
/** ResNet stages (detectron2's `res2`..`res5`); the inference pipeline's stages are `STAGES` of infer/stage-names.ts. */
export const RESNET_STAGES = ['res2', 'res3', 'res4', 'res5'] as const;
export type ResNetStage = (typeof RESNET_STAGES)[number];

export interface ResNetOptions {
  /** Stage depths from {@link RESNET_DEPTHS}. 18/34 use BasicBlock, 50+ Bottleneck. @default 50 */
  depth?: ResNetDepth;
  /** Groups of the 3×3 bottleneck conv (ResNeXt: 32, SENet-154: 64). @default 1 */
  numGroups?: number;
  /** Channels per group of the res2 bottleneck (ResNeXt-32x8d: 8). @default 64 */
  widthPerGroup?: number;
  /** @default 64 (128 for the deep stem) */
  stemOutChannels?: number;
  /** Output channels of res2; 64 for BasicBlock nets. @default 256 (64 for depth 18/34) */
  res2OutChannels?: number;
  /** Put the stride in the first 1×1 conv (MSRA / Caffe2 weights) rather than the 3×3. @default true */
  strideInOneByOne?: boolean;
  /** Dilation of res5 (1 or 2). @default 1 */
  res5Dilation?: number;
  /** @default 'FrozenBN' */
  norm?: BackboneNorm;
  /** Stages frozen (no trainable parameters): 0 none, 1 stem, 2 stem+res2, … 5 all. @default 2 */
  freezeAt?: number;
  /** Squeeze-and-excitation reduction in every bottleneck (16 for SE-ResNeXt / SENet); 0 = off. @default 0 */
  seReduction?: number;
  /** @default 'basic' */
  stem?: StemKind;
  /** Kernel of the projection shortcut of strided blocks (SENet-154: 3). @default 1 */
  shortcutKernel?: number;
}

/** FPN fuse of lateral and top-down maps (detectron2's "avg" is not offered: the Executor has no scalar multiply). */
export const FPN_FUSE_TYPES = ['sum'] as const;
export type FpnFuseType = (typeof FPN_FUSE_TYPES)[number];
export const FPN_NORMS = ['', 'GN'] as const;
export type FpnNorm = (typeof FPN_NORMS)[number];

export interface FpnOptions {
  /** @default 256 */
  outChannels?: number;
  /** @default '' */
  norm?: FpnNorm;
  /** @default 'sum' */
  fuseType?: FpnFuseType;
}

/** Per-mode RPN proposal settings (train and test differ in detectron2). */
export interface RpnTopK {
  /** Proposals kept per level before NMS. */
  preNmsTopK: number;
  /** Proposals kept per image after NMS. */
  postNmsTopK: number;
}

export interface RpnOptions {
  /** Anchor side per level p2..p6. @default [32, 64, 128, 256, 512] */
  anchorSizes?: readonly number[];
  /** h/w ratios. @default [0.5, 1, 2] */
  aspectRatios?: readonly number[];
  /** Anchor offset in strides (0: anchors centred on the cell's top-left corner, detectron2 default). @default 0 */
  anchorOffset?: number;
  /** @default 0.7 */
  nmsThresh?: number;
  /** Proposals whose side is ≤ this are dropped. @default 0 */
  minSize?: number;
  /** @default { preNmsTopK: 2000, postNmsTopK: 1000 } */
  train?: RpnTopK;
  /** @default { preNmsTopK: 1000, postNmsTopK: 1000 } */
  test?: RpnTopK;
  /** IoU thresholds [negative below, positive at or above]. @default [0.3, 0.7] */
  iouThresholds?: readonly [number, number];
  /** Anchors sampled per image for the loss. @default 256 */
  batchSizePerImage?: number;
  /** @default 0.5 */
  positiveFraction?: number;
  /** Smooth-L1 beta of the delta loss (0 = L1). @default 0 */
  smoothL1Beta?: number;
  /** @default 1 */
  lossWeight?: number;
}

export const POOLER_TYPES = ['ROIAlign', 'ROIAlignV2'] as const;
export type PoolerType = (typeof POOLER_TYPES)[number];

export interface BoxHeadOptions {
  /** Foreground classes (1 = person). @default 1 */
  numClasses?: number;
  /** @default 2 */
  numFc?: number;
  /** @default 1024 */
  fcDim?: number;
  /** @default 7 */
  poolerResolution?: number;
  /** @default 2 */
  poolerSamplingRatio?: number;
  /** ROIAlign = legacy (aligned=false), ROIAlignV2 = aligned. @default 'ROIAlign' */
  poolerType?: PoolerType;
  /** Delta weights (wx, wy, ww, wh). @default [10, 10, 5, 5] */
  bboxRegWeights?: readonly [number, number, number, number];
  /** @default false */
  clsAgnosticBboxReg?: boolean;
  /** @default 0.05 */
  scoreThreshTest?: number;
  /** @default 0.5 */
  nmsThreshTest?: number;
  /** @default 100 */
  detectionsPerImage?: number;
  /** IoU at or above which a proposal is foreground. @default 0.5 */
  iouThreshold?: number;
  /** RoIs sampled per image. @default 512 */
  batchSizePerImage?: number;
  /** @default 0.25 */
  positiveFraction?: number;
  /** @default 0 */
  smoothL1Beta?: number;
  /** Add ground-truth boxes to the proposals in training. @default true */
  proposalAppendGt?: boolean;
}

export interface InputOptions {
  /** Channel order the model was trained on. @default 'BGR' */
  format?: 'BGR' | 'RGB';
  /** In `format` order. @default [103.53, 116.28, 123.675] */
  pixelMean?: readonly [number, number, number];
  /** @default [1, 1, 1] */
  pixelStd?: readonly [number, number, number];
  /** @default 800 */
  minSizeTest?: number;
  /** @default 1333 */
  maxSizeTest?: number;
  /** Pad height and width up to a multiple of this. @default 32 */
  sizeDivisibility?: number;
}

export interface ModelConfig {
  /** Config name (file stem), for messages. */
  name?: string;
  /** detectron2 zoo config this mirrors, if any. */
  detectron2?: string;
  backbone: ResNetOptions;
  fpn: FpnOptions;
  rpn: RpnOptions;
  roiHeads: BoxHeadOptions;
  input: InputOptions;
  /** DensePose head settings; read by `src/model/densepose` (kept opaque here). */
  densepose?: Record<string, unknown>;
}

const TOP_KEYS = ['name', 'detectron2', 'backbone', 'fpn', 'rpn', 'roiHeads', 'input', 'densepose', 'comment'] as const;
const BACKBONE_KEYS = ['depth', 'numGroups', 'widthPerGroup', 'stemOutChannels', 'res2OutChannels', 'strideInOneByOne', 'res5Dilation', 'norm', 'freezeAt', 'seReduction', 'stem', 'shortcutKernel'] as const;
const FPN_KEYS = ['outChannels', 'norm', 'fuseType'] as const;
const RPN_KEYS = ['anchorSizes', 'aspectRatios', 'anchorOffset', 'nmsThresh', 'minSize', 'train', 'test', 'iouThresholds', 'batchSizePerImage', 'positiveFraction', 'smoothL1Beta', 'lossWeight'] as const;
const BOX_KEYS = [
  'numClasses', 'numFc', 'fcDim', 'poolerResolution', 'poolerSamplingRatio', 'poolerType', 'bboxRegWeights', 'clsAgnosticBboxReg',
  'scoreThreshTest', 'nmsThreshTest', 'detectionsPerImage', 'iouThreshold', 'batchSizePerImage', 'positiveFraction', 'smoothL1Beta', 'proposalAppendGt',
] as const;
const INPUT_KEYS = ['format', 'pixelMean', 'pixelStd', 'minSizeTest', 'maxSizeTest', 'sizeDivisibility'] as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function section(json: Json, key: string, where: string, keys: readonly string[]): Json {
  const v = json[key] ?? {};
  if (!isObject(v)) throw new DensePoseError('BAD_CONFIG', `"${key}" must be an object`, { where });
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw unknownKey(key, k, keys, where);
  return v;
}

function num(s: Json, key: string, where: string, check: (n: number) => boolean, rule: string): void {
  const v = s[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !check(v)) throw new DensePoseError('BAD_CONFIG', `"${key}" must be ${rule}, got ${JSON.stringify(v)}`, { where });
}

function oneOf(s: Json, key: string, what: string, valid: readonly (string | number)[], where: string): void {
  const v = s[key];
  if (v === undefined) return;
  if (!valid.includes(v as string | number)) {
    const e = unknownValue(what, String(v), valid.map(String));
    throw new DensePoseError('BAD_CONFIG', e.message, { where });
  }
}

function numList(s: Json, key: string, where: string, length?: number): void {
  const v = s[key];
  if (v === undefined) return;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || (length !== undefined && v.length !== length)) {
    throw new DensePoseError('BAD_CONFIG', `"${key}" must be ${length !== undefined ? `${length} numbers` : 'a list of numbers'}, got ${JSON.stringify(v)}`, { where });
  }
}

const posInt = (n: number) => Number.isInteger(n) && n > 0;
const nonNegInt = (n: number) => Number.isInteger(n) && n >= 0;
const unit = (n: number) => n >= 0 && n <= 1;

/**
 * Validate a JSON config object (as read from `configs/*.json`) and return it typed. Errors name the
 * option and list the valid values: `Unknown backbone depth "19". Expected one of: 18, 34, 50, 101, 152.`
 */
export function fromConfig(json: unknown, where = 'model config'): ModelConfig {
  if (!isObject(json)) throw new DensePoseError('BAD_CONFIG', 'a model config must be a JSON object', { where });
  for (const k of Object.keys(json)) if (!(TOP_KEYS as readonly string[]).includes(k)) throw unknownKey('', k, TOP_KEYS, where);
  const backbone = section(json, 'backbone', where, BACKBONE_KEYS);
  oneOf(backbone, 'depth', 'backbone depth', Object.keys(RESNET_DEPTHS).map(Number), where);
  oneOf(backbone, 'norm', 'backbone norm', BACKBONE_NORMS, where);
  oneOf(backbone, 'stem', 'backbone stem', STEM_KINDS, where);
  for (const k of ['numGroups', 'widthPerGroup', 'stemOutChannels', 'res2OutChannels']) num(backbone, k, where, posInt, 'a positive integer');
  oneOf(backbone, 'res5Dilation', 'res5 dilation', [1, 2], where);
  oneOf(backbone, 'shortcutKernel', 'shortcut kernel', [1, 3], where);
  num(backbone, 'freezeAt', where, (n) => nonNegInt(n) && n <= 5, 'an integer in 0..5');
  num(backbone, 'seReduction', where, nonNegInt, 'an integer ≥ 0');
  if (backbone['strideInOneByOne'] !== undefined && typeof backbone['strideInOneByOne'] !== 'boolean') throw new DensePoseError('BAD_CONFIG', '"strideInOneByOne" must be true or false', { where });
  const depth = (backbone['depth'] ?? 50) as ResNetDepth;
  if (depth < 50) {
    if ((backbone['numGroups'] ?? 1) !== 1 || (backbone['seReduction'] ?? 0) !== 0) throw new DensePoseError('BAD_CONFIG', `backbone depth ${depth} uses BasicBlock: numGroups must be 1 and seReduction 0`, { where });
    // detectron2 asserts res2OutChannels 64 for BasicBlock nets; narrower ones are ours (CPU-sized models), no zoo weights exist for them.
    const res2 = backbone['res2OutChannels'] ?? 64;
    if (typeof res2 !== 'number' || !Number.isInteger(res2) || res2 < 8) throw new DensePoseError('BAD_CONFIG', `backbone depth ${depth}: res2OutChannels must be an integer ≥ 8, got ${JSON.stringify(res2)}`, { where });
  }

  const fpn = section(json, 'fpn', where, FPN_KEYS);
  num(fpn, 'outChannels', where, posInt, 'a positive integer');
  oneOf(fpn, 'norm', 'FPN norm', FPN_NORMS, where);
  oneOf(fpn, 'fuseType', 'FPN fuse type', FPN_FUSE_TYPES, where);

  const rpn = section(json, 'rpn', where, RPN_KEYS);
  numList(rpn, 'anchorSizes', where, 5);
  numList(rpn, 'aspectRatios', where);
  numList(rpn, 'iouThresholds', where, 2);
  for (const k of ['nmsThresh', 'positiveFraction', 'anchorOffset']) num(rpn, k, where, unit, 'a number in [0, 1]');
  num(rpn, 'minSize', where, (n) => n >= 0, 'a number ≥ 0');
  num(rpn, 'batchSizePerImage', where, posInt, 'a positive integer');
  num(rpn, 'smoothL1Beta', where, (n) => n >= 0, 'a number ≥ 0');
  num(rpn, 'lossWeight', where, (n) => n >= 0, 'a number ≥ 0');
  for (const mode of ['train', 'test']) {
    const t = rpn[mode];
    if (t === undefined) continue;
    if (!isObject(t) || !posInt(t['preNmsTopK'] as number) || !posInt(t['postNmsTopK'] as number)) {
      throw new DensePoseError('BAD_CONFIG', `"rpn.${mode}" must be { preNmsTopK, postNmsTopK } with positive integers, got ${JSON.stringify(t)}`, { where });
    }
  }

  const roiHeads = section(json, 'roiHeads', where, BOX_KEYS);
  for (const k of ['numClasses', 'numFc', 'fcDim', 'poolerResolution', 'batchSizePerImage', 'detectionsPerImage']) num(roiHeads, k, where, posInt, 'a positive integer');
  num(roiHeads, 'poolerSamplingRatio', where, nonNegInt, 'an integer ≥ 0 (0 = adaptive)');
  oneOf(roiHeads, 'poolerType', 'pooler type', POOLER_TYPES, where);
  numList(roiHeads, 'bboxRegWeights', where, 4);
  for (const k of ['scoreThreshTest', 'nmsThreshTest', 'iouThreshold', 'positiveFraction']) num(roiHeads, k, where, unit, 'a number in [0, 1]');
  num(roiHeads, 'smoothL1Beta', where, (n) => n >= 0, 'a number ≥ 0');

  const input = section(json, 'input', where, INPUT_KEYS);
  oneOf(input, 'format', 'input format', ['BGR', 'RGB'], where);
  numList(input, 'pixelMean', where, 3);
  numList(input, 'pixelStd', where, 3);
  for (const k of ['minSizeTest', 'maxSizeTest', 'sizeDivisibility']) num(input, k, where, posInt, 'a positive integer');

  const densepose = json['densepose'];
  if (densepose !== undefined && !isObject(densepose)) throw new DensePoseError('BAD_CONFIG', '"densepose" must be an object', { where });
  return {
    ...(typeof json['name'] === 'string' ? { name: json['name'] } : {}),
    ...(typeof json['detectron2'] === 'string' ? { detectron2: json['detectron2'] } : {}),
    backbone: backbone as ResNetOptions,
    fpn: fpn as FpnOptions,
    rpn: rpn as RpnOptions,
    roiHeads: roiHeads as BoxHeadOptions,
    input: input as InputOptions,
    ...(densepose ? { densepose } : {}),
  };
}
