// detectron2 yaml configs (the user's own, or the zoo's) → our ModelConfig. detectron2 merges a yaml onto
// its defaults (`_BASE_` files first, then the file, then command-line `KEY VALUE` overrides); we do the
// same with the defaults of the keys we map, and refuse settings our model cannot build.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DensePoseError } from '../errors.ts';
import { fromConfig, type ModelConfig } from './config.ts';
import { loadDensePoseRcnnConfig } from './densepose-rcnn.ts';
import type { DensePoseHeadConfigInput } from './densepose/config.ts';

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** detectron2 `CfgNode.merge_from_other_cfg`: mappings merge key by key, everything else is replaced. */
function merge(into: Node, from: Node): Node {
  const out: Node = { ...into };
  for (const [k, v] of Object.entries(from)) out[k] = isNode(v) && isNode(out[k]) ? merge(out[k] as Node, v) : v;
  return out;
}

function readYamlFile(path: string, chain: string[]): Node {
  if (chain.includes(path)) throw new DensePoseError('BAD_FILE', `_BASE_ cycle: ${[...chain, path].join(' → ')}`, { where: path });
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `cannot read detectron2 config: ${(e as Error).message.split('\n')[0]}`, { where: path, cause: e });
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isNode(doc)) throw new DensePoseError('BAD_FILE', 'a detectron2 config must be a YAML mapping', { where: path });
  const { _BASE_: base, ...rest } = doc;
  if (base === undefined) return rest;
  if (typeof base !== 'string') throw new DensePoseError('BAD_FILE', `_BASE_ must be a file name, got ${JSON.stringify(base)}`, { where: path });
  return merge(readYamlFile(resolve(dirname(path), base), [...chain, path]), rest);
}

/** Set `A.B.C` = value (the value parsed as YAML, as detectron2 literal-evaluates it); unknown sections are created. */
function applyOverride(cfg: Node, key: string, value: string): Node {
  const parts = key.split('.');
  if (parts.some((p) => !/^[A-Z0-9_]+$/.test(p))) throw new DensePoseError('BAD_OPTION', `config override key "${key}" must look like MODEL.RESNETS.DEPTH`);
  let parsed: unknown;
  try {
    parsed = parseYaml(value);
  } catch {
    parsed = value;
  }
  const out = { ...cfg };
  let node = out;
  for (const p of parts.slice(0, -1)) {
    const next = isNode(node[p]) ? { ...(node[p] as Node) } : {};
    node[p] = next;
    node = next;
  }
  node[parts[parts.length - 1]!] = parsed;
  return out;
}

/**
 * Read a detectron2 yaml config with its `_BASE_` chain (paths relative to each file) and apply
 * command-line style overrides: `['MODEL.RESNETS.DEPTH', '101']` or `['MODEL.RESNETS.DEPTH=101']`.
 * Returns the merged tree (detectron2's keys, without its defaults).
 */
export function readDetectron2Yaml(path: string, overrides: readonly string[] = []): Node {
  let cfg = readYamlFile(resolve(path), []);
  for (let i = 0; i < overrides.length; i++) {
    const o = overrides[i]!;
    const eq = o.indexOf('=');
    if (eq > 0) cfg = applyOverride(cfg, o.slice(0, eq), o.slice(eq + 1));
    else {
      const v = overrides[++i];
      if (v === undefined) throw new DensePoseError('BAD_OPTION', `config override "${o}" has no value (expected KEY VALUE pairs)`);
      cfg = applyOverride(cfg, o, v);
    }
  }
  return cfg;
}

/** The defaults (detectron2 `config/defaults.py` and DensePose's `add_densepose_config`) of every key we map. */
const D2_DEFAULTS: Node = {
  MODEL: {
    PIXEL_MEAN: [103.53, 116.28, 123.675],
    PIXEL_STD: [1.0, 1.0, 1.0],
    BACKBONE: { NAME: 'build_resnet_backbone', FREEZE_AT: 2 },
    RESNETS: { DEPTH: 50, NUM_GROUPS: 1, NORM: 'FrozenBN', WIDTH_PER_GROUP: 64, STRIDE_IN_1X1: true, RES5_DILATION: 1, RES2_OUT_CHANNELS: 256, STEM_OUT_CHANNELS: 64, DEFORM_ON_PER_STAGE: [false, false, false, false] },
    FPN: { OUT_CHANNELS: 256, NORM: '', FUSE_TYPE: 'sum' },
    ANCHOR_GENERATOR: { NAME: 'DefaultAnchorGenerator', SIZES: [[32, 64, 128, 256, 512]], ASPECT_RATIOS: [[0.5, 1.0, 2.0]], OFFSET: 0.0 },
    RPN: {
      HEAD_NAME: 'StandardRPNHead', IOU_THRESHOLDS: [0.3, 0.7], BATCH_SIZE_PER_IMAGE: 256, POSITIVE_FRACTION: 0.5, SMOOTH_L1_BETA: 0.0, LOSS_WEIGHT: 1.0,
      PRE_NMS_TOPK_TRAIN: 12000, PRE_NMS_TOPK_TEST: 6000, POST_NMS_TOPK_TRAIN: 2000, POST_NMS_TOPK_TEST: 1000, NMS_THRESH: 0.7,
    },
    ROI_HEADS: { NUM_CLASSES: 80, IN_FEATURES: ['res4'], IOU_THRESHOLDS: [0.5], BATCH_SIZE_PER_IMAGE: 512, POSITIVE_FRACTION: 0.25, SCORE_THRESH_TEST: 0.05, NMS_THRESH_TEST: 0.5, PROPOSAL_APPEND_GT: true },
    ROI_BOX_HEAD: { BBOX_REG_WEIGHTS: [10.0, 10.0, 5.0, 5.0], SMOOTH_L1_BETA: 0.0, POOLER_RESOLUTION: 14, POOLER_SAMPLING_RATIO: 0, POOLER_TYPE: 'ROIAlignV2', NUM_FC: 0, FC_DIM: 1024, NUM_CONV: 0, CLS_AGNOSTIC_BBOX_REG: false },
    ROI_DENSEPOSE_HEAD: {
      NAME: '', NUM_STACKED_CONVS: 8, NUM_PATCHES: 24, DECONV_KERNEL: 4, CONV_HEAD_DIM: 512, CONV_HEAD_KERNEL: 3, UP_SCALE: 2,
      POOLER_TYPE: 'ROIAlignV2', POOLER_RESOLUTION: 28, POOLER_SAMPLING_RATIO: 2, NUM_COARSE_SEGM_CHANNELS: 2,
      INDEX_WEIGHTS: 5.0, PART_WEIGHTS: 1.0, POINT_REGRESSION_WEIGHTS: 0.01,
      DECODER_ON: true, DECODER_NUM_CLASSES: 256, DECODER_CONV_DIMS: 256, DECODER_NORM: '', DECODER_COMMON_STRIDE: 4,
      DEEPLAB: { NORM: 'GN', NONLOCAL_ON: 0 },
      PREDICTOR_NAME: 'DensePoseChartWithConfidencePredictor',
      UV_CONFIDENCE: { ENABLED: false, EPSILON: 0.01, TYPE: 'iid_iso' },
      SEGM_CONFIDENCE: { ENABLED: false, EPSILON: 0.01 },
    },
  },
  INPUT: { FORMAT: 'BGR', MIN_SIZE_TEST: 800, MAX_SIZE_TEST: 1333 },
  TEST: { DETECTIONS_PER_IMAGE: 100 },
};

const DENSEPOSE_HEADS: Record<string, 'v1convx' | 'deeplab'> = { DensePoseV1ConvXHead: 'v1convx', DensePoseDeepLabHead: 'deeplab' };
const CHART_PREDICTORS = ['DensePoseChartPredictor', 'DensePoseChartWithConfidencePredictor'];

/**
 * A merged detectron2 config (see {@link readDetectron2Yaml}) → our model config, validated. Settings our
 * model has no equivalent for (deformable convs, non-FPN backbones, CSE heads, BN, …) are `UNSUPPORTED`
 * errors naming the key; training-only keys (SOLVER, DATASETS, loss types) are ignored.
 */
export function detectron2ConfigToModelConfig(cfg: Node, where: string, name?: string): ModelConfig {
  const c = merge(D2_DEFAULTS, cfg);
  const get = (key: string): unknown => key.split('.').reduce<unknown>((n, k) => (isNode(n) ? n[k] : undefined), c);
  const unsupported = (key: string, valid: string): never => {
    throw new DensePoseError('UNSUPPORTED', `${key} = ${JSON.stringify(get(key))} is not supported (${valid})`, { where });
  };
  const num = (key: string): number => {
    const v = get(key);
    if (typeof v !== 'number') throw new DensePoseError('BAD_OPTION', `${key} must be a number, got ${JSON.stringify(v)}`, { where });
    return v;
  };
  const list = (key: string): number[] => {
    const v = get(key);
    // yacs accepts tuples written as "(a, b)" strings; YAML has no tuples
    const arr = typeof v === 'string' && /^\(.*\)$/.test(v.trim()) ? parseYaml(`[${v.trim().slice(1, -1)}]`) : v;
    if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'number')) throw new DensePoseError('BAD_OPTION', `${key} must be a list of numbers, got ${JSON.stringify(v)}`, { where });
    return arr as number[];
  };

  const backboneName = get('MODEL.BACKBONE.NAME');
  if (backboneName !== 'build_resnet_fpn_backbone') unsupported('MODEL.BACKBONE.NAME', 'build_resnet_fpn_backbone only');
  if ((get('MODEL.RESNETS.DEFORM_ON_PER_STAGE') as unknown[]).some(Boolean)) unsupported('MODEL.RESNETS.DEFORM_ON_PER_STAGE', 'no deformable convolutions');
  const norm = get('MODEL.RESNETS.NORM');
  if (norm !== 'FrozenBN' && norm !== 'GN') unsupported('MODEL.RESNETS.NORM', 'FrozenBN or GN');
  const fuse = get('MODEL.FPN.FUSE_TYPE');
  if (fuse !== 'sum') unsupported('MODEL.FPN.FUSE_TYPE', 'sum only');
  if (get('MODEL.ANCHOR_GENERATOR.NAME') !== 'DefaultAnchorGenerator') unsupported('MODEL.ANCHOR_GENERATOR.NAME', 'DefaultAnchorGenerator only');
  if (get('MODEL.RPN.HEAD_NAME') !== 'StandardRPNHead') unsupported('MODEL.RPN.HEAD_NAME', 'StandardRPNHead only');
  if (num('MODEL.ROI_BOX_HEAD.NUM_CONV') !== 0) unsupported('MODEL.ROI_BOX_HEAD.NUM_CONV', 'FC box heads only (0)');

  const sizes = get('MODEL.ANCHOR_GENERATOR.SIZES') as unknown[];
  const anchorSizes = Array.isArray(sizes) && sizes.length === 5 && sizes.every((s) => Array.isArray(s) && s.length === 1) ? sizes.map((s) => (s as number[])[0]!) : unsupported('MODEL.ANCHOR_GENERATOR.SIZES', 'one size per level p2..p6, e.g. [[32], [64], [128], [256], [512]]');
  const ratios = get('MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS') as unknown[];
  const aspectRatios = Array.isArray(ratios) && ratios.length === 1 && Array.isArray(ratios[0]) ? (ratios[0] as number[]) : unsupported('MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS', 'one list for all levels');
  const inFeatures = get('MODEL.ROI_HEADS.IN_FEATURES');
  if (JSON.stringify(inFeatures) !== JSON.stringify(['p2', 'p3', 'p4', 'p5'])) unsupported('MODEL.ROI_HEADS.IN_FEATURES', '["p2", "p3", "p4", "p5"]');
  const poolerType = (key: string): 'ROIAlign' | 'ROIAlignV2' => {
    const v = get(key);
    return v === 'ROIAlign' || v === 'ROIAlignV2' ? v : unsupported(key, 'ROIAlign or ROIAlignV2');
  };

  const dp = 'MODEL.ROI_DENSEPOSE_HEAD';
  let densepose: DensePoseHeadConfigInput | undefined;
  if (get('MODEL.DENSEPOSE_ON') === true) {
    const head = DENSEPOSE_HEADS[String(get(`${dp}.NAME`))] ?? unsupported(`${dp}.NAME`, Object.keys(DENSEPOSE_HEADS).join(' or '));
    if (!CHART_PREDICTORS.includes(String(get(`${dp}.PREDICTOR_NAME`)))) unsupported(`${dp}.PREDICTOR_NAME`, `chart predictors only: ${CHART_PREDICTORS.join(', ')}`);
    if (num(`${dp}.DECODER_COMMON_STRIDE`) !== 4) unsupported(`${dp}.DECODER_COMMON_STRIDE`, '4 only');
    if (num(`${dp}.DEEPLAB.NONLOCAL_ON`) !== 0) unsupported(`${dp}.DEEPLAB.NONLOCAL_ON`, 'no non-local block');
    const r = num(`${dp}.POOLER_RESOLUTION`);
    const uvOn = get(`${dp}.UV_CONFIDENCE.ENABLED`) === true;
    const uvType = get(`${dp}.UV_CONFIDENCE.TYPE`);
    if (uvOn && uvType !== 'iid_iso' && uvType !== 'indep_aniso') unsupported(`${dp}.UV_CONFIDENCE.TYPE`, 'iid_iso or indep_aniso');
    const coarse = num(`${dp}.NUM_COARSE_SEGM_CHANNELS`);
    if (coarse !== 2 && coarse !== 15) unsupported(`${dp}.NUM_COARSE_SEGM_CHANNELS`, '2 or 15');
    densepose = {
      inChannels: num('MODEL.FPN.OUT_CHANNELS'),
      decoder: get(`${dp}.DECODER_ON`) === true,
      decoderConvDims: num(`${dp}.DECODER_CONV_DIMS`),
      decoderNumClasses: num(`${dp}.DECODER_NUM_CLASSES`),
      decoderNorm: get(`${dp}.DECODER_NORM`) as '' | 'GN',
      featureStrides: [4, 8, 16, 32],
      poolerResolution: [r, r],
      poolerSamplingRatio: num(`${dp}.POOLER_SAMPLING_RATIO`),
      poolerAligned: poolerType(`${dp}.POOLER_TYPE`) === 'ROIAlignV2',
      head,
      convHeadDim: num(`${dp}.CONV_HEAD_DIM`),
      convHeadKernel: num(`${dp}.CONV_HEAD_KERNEL`),
      numStackedConvs: num(`${dp}.NUM_STACKED_CONVS`),
      deeplabNorm: get(`${dp}.DEEPLAB.NORM`) as '' | 'GN',
      upsample: 'deconv',
      deconvKernel: num(`${dp}.DECONV_KERNEL`),
      upScale: num(`${dp}.UP_SCALE`),
      numCoarseSegmChannels: coarse as 2 | 15,
      numPatches: num(`${dp}.NUM_PATCHES`),
      uvConfidence: uvOn ? (uvType as 'iid_iso' | 'indep_aniso') : '',
      segmConfidence: get(`${dp}.SEGM_CONFIDENCE.ENABLED`) === true,
      segmConfidenceEpsilon: num(`${dp}.SEGM_CONFIDENCE.EPSILON`),
      lossWeights: { segm: num(`${dp}.INDEX_WEIGHTS`), part: num(`${dp}.PART_WEIGHTS`), points: num(`${dp}.POINT_REGRESSION_WEIGHTS`) },
    };
  }
  const iou = list('MODEL.RPN.IOU_THRESHOLDS');
  const json = {
    name: name ?? basename(where).replace(/\.ya?ml$/i, ''),
    detectron2: name ?? basename(where).replace(/\.ya?ml$/i, ''),
    comment: `converted from the detectron2 config ${basename(where)}`,
    backbone: {
      depth: num('MODEL.RESNETS.DEPTH'),
      numGroups: num('MODEL.RESNETS.NUM_GROUPS'),
      widthPerGroup: num('MODEL.RESNETS.WIDTH_PER_GROUP'),
      stemOutChannels: num('MODEL.RESNETS.STEM_OUT_CHANNELS'),
      res2OutChannels: num('MODEL.RESNETS.RES2_OUT_CHANNELS'),
      strideInOneByOne: get('MODEL.RESNETS.STRIDE_IN_1X1') === true,
      res5Dilation: num('MODEL.RESNETS.RES5_DILATION'),
      norm,
      freezeAt: num('MODEL.BACKBONE.FREEZE_AT'),
    },
    fpn: { outChannels: num('MODEL.FPN.OUT_CHANNELS'), norm: get('MODEL.FPN.NORM'), fuseType: fuse },
    rpn: {
      anchorSizes,
      aspectRatios,
      anchorOffset: num('MODEL.ANCHOR_GENERATOR.OFFSET'),
      nmsThresh: num('MODEL.RPN.NMS_THRESH'),
      train: { preNmsTopK: num('MODEL.RPN.PRE_NMS_TOPK_TRAIN'), postNmsTopK: num('MODEL.RPN.POST_NMS_TOPK_TRAIN') },
      test: { preNmsTopK: num('MODEL.RPN.PRE_NMS_TOPK_TEST'), postNmsTopK: num('MODEL.RPN.POST_NMS_TOPK_TEST') },
      iouThresholds: [iou[0], iou[1]],
      batchSizePerImage: num('MODEL.RPN.BATCH_SIZE_PER_IMAGE'),
      positiveFraction: num('MODEL.RPN.POSITIVE_FRACTION'),
      smoothL1Beta: num('MODEL.RPN.SMOOTH_L1_BETA'),
      lossWeight: num('MODEL.RPN.LOSS_WEIGHT'),
    },
    roiHeads: {
      numClasses: num('MODEL.ROI_HEADS.NUM_CLASSES'),
      numFc: num('MODEL.ROI_BOX_HEAD.NUM_FC'),
      fcDim: num('MODEL.ROI_BOX_HEAD.FC_DIM'),
      poolerResolution: num('MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION'),
      poolerSamplingRatio: num('MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO'),
      poolerType: poolerType('MODEL.ROI_BOX_HEAD.POOLER_TYPE'),
      bboxRegWeights: list('MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS'),
      clsAgnosticBboxReg: get('MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG') === true,
      scoreThreshTest: num('MODEL.ROI_HEADS.SCORE_THRESH_TEST'),
      nmsThreshTest: num('MODEL.ROI_HEADS.NMS_THRESH_TEST'),
      detectionsPerImage: num('TEST.DETECTIONS_PER_IMAGE'),
      iouThreshold: list('MODEL.ROI_HEADS.IOU_THRESHOLDS')[0],
      batchSizePerImage: num('MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE'),
      positiveFraction: num('MODEL.ROI_HEADS.POSITIVE_FRACTION'),
      smoothL1Beta: num('MODEL.ROI_BOX_HEAD.SMOOTH_L1_BETA'),
      proposalAppendGt: get('MODEL.ROI_HEADS.PROPOSAL_APPEND_GT') === true,
    },
    input: {
      format: get('INPUT.FORMAT'),
      pixelMean: list('MODEL.PIXEL_MEAN'),
      pixelStd: list('MODEL.PIXEL_STD'),
      minSizeTest: num('INPUT.MIN_SIZE_TEST'),
      maxSizeTest: num('INPUT.MAX_SIZE_TEST'),
    },
    ...(densepose ? { densepose } : {}),
  };
  return fromConfig(json, where);
}

/** Read a detectron2 yaml (with `_BASE_` chain and overrides) as our model config. */
export function loadDetectron2Config(path: string, overrides: readonly string[] = []): ModelConfig {
  return detectron2ConfigToModelConfig(readDetectron2Yaml(path, overrides), path);
}

/** True for `.yaml` / `.yml` paths (detectron2 configs), false for our `.json`. */
export function isYamlConfig(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** A model config file of either kind: our JSON (configs/*.json) or a detectron2 yaml (with overrides). */
export function loadModelConfigFile(path: string, overrides: readonly string[] = []): ModelConfig {
  if (isYamlConfig(path)) return loadDetectron2Config(path, overrides);
  if (overrides.length > 0) throw new DensePoseError('BAD_OPTION', `config overrides (${overrides.join(' ')}) apply to detectron2 yaml configs only`, { where: path });
  return loadDensePoseRcnnConfig(path);
}
