// Everything the staged pipeline needs besides the ONNX graphs: plain JSON, so the browser page can
// load it next to the exported stages without building any tfjs module.
import type { BoxInferenceOptions } from '../model/roi-heads/box-inference.ts';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { INPUT_DEFAULTS } from '../model/input-size.ts';
import { type ConfidenceHeadName, confidenceHeadNames } from '../model/densepose/confidence.ts';

/** Version of {@link PipelineSpec}; bump when its meaning changes. */
export const PIPELINE_SPEC_VERSION = 1;

/** The model's pipeline settings, resolved (every default filled in). JSON-able. */
export interface PipelineSpec {
  version: number;
  name: string;
  /** The detectron2 config the model mirrors (zoo models): its preprocessing and score threshold are the defaults. */
  detectron2?: string;
  input: {
    /** Channel order the model expects. */
    format: 'BGR' | 'RGB';
    /** In `format` order. */
    pixelMean: [number, number, number];
    pixelStd: [number, number, number];
    minSizeTest: number;
    maxSizeTest: number;
    sizeDivisibility: number;
  };
  /** FPN output channels (p2..p6). */
  channels: number;
  rpn: {
    /** One anchor size per level p2..p6. */
    anchorSizes: number[];
    aspectRatios: number[];
    anchorOffset: number;
    /** Strides of p2..p6. */
    strides: number[];
    nmsThresh: number;
    minSize: number;
    preNmsTopK: number;
    postNmsTopK: number;
  };
  box: BoxInferenceOptions & {
    poolerResolution: number;
    poolerSamplingRatio: number;
    /** ROIAlignV2. */
    aligned: boolean;
  };
  densepose: {
    /** Pool from the decoder's one stride-4 map (body output `dp_features`), else from p2..p5 by box size. */
    decoder: boolean;
    /** Strides of the pooled maps, finest first. */
    featureStrides: number[];
    /** Channels of the pooled maps. */
    channels: number;
    /** RoI `[h, w]`. */
    poolerResolution: [number, number];
    poolerSamplingRatio: number;
    poolerAligned: boolean;
    /** Confidence heads of the zoo's WC/WCM models (extra `densepose` stage outputs, CONFIDENCE_HEADS names); absent: none. */
    confidences?: ConfidenceHeadName[];
    /** Added to softplus of the segmentation confidences. @default 0.01 */
    segmConfidenceEpsilon?: number;
  };
}

/** The spec of a built model. */
export function pipelineSpec(rcnn: DensePoseRcnn): PipelineSpec {
  const input = { ...INPUT_DEFAULTS, ...rcnn.config.input };
  const rpn = rcnn.model.proposal_generator;
  const box = rcnn.model.roi_heads.options;
  const dp = rcnn.densepose.config;
  const channels = rcnn.model.backbone.outChannels;
  return {
    version: PIPELINE_SPEC_VERSION,
    name: rcnn.config.name ?? 'densepose model',
    ...(rcnn.config.detectron2 !== undefined ? { detectron2: rcnn.config.detectron2 } : {}),
    input: {
      format: input.format,
      pixelMean: [...input.pixelMean] as [number, number, number],
      pixelStd: [...input.pixelStd] as [number, number, number],
      minSizeTest: input.minSizeTest,
      maxSizeTest: input.maxSizeTest,
      sizeDivisibility: input.sizeDivisibility,
    },
    channels,
    rpn: {
      anchorSizes: [...rpn.options.anchorSizes],
      aspectRatios: [...rpn.options.aspectRatios],
      anchorOffset: rpn.options.anchorOffset,
      strides: [...rpn.strides],
      nmsThresh: rpn.options.nmsThresh,
      minSize: rpn.options.minSize,
      preNmsTopK: rpn.options.test.preNmsTopK,
      postNmsTopK: rpn.options.test.postNmsTopK,
    },
    box: {
      numClasses: box.numClasses,
      bboxRegWeights: [...box.bboxRegWeights] as [number, number, number, number],
      scoreThresh: box.scoreThreshTest,
      nmsThresh: box.nmsThreshTest,
      topK: box.detectionsPerImage,
      poolerResolution: box.poolerResolution,
      poolerSamplingRatio: box.poolerSamplingRatio,
      aligned: box.poolerType === 'ROIAlignV2',
    },
    densepose: {
      decoder: dp.decoder,
      featureStrides: dp.decoder ? [dp.featureStrides[0]!] : [...dp.featureStrides],
      channels: dp.decoder ? dp.decoderNumClasses : dp.inChannels,
      poolerResolution: [...dp.poolerResolution] as [number, number],
      poolerSamplingRatio: dp.poolerSamplingRatio,
      poolerAligned: dp.poolerAligned,
      ...confidenceSpec(confidenceHeadNames(dp.uvConfidence, dp.segmConfidence), dp.segmConfidenceEpsilon),
    },
  };
}

function confidenceSpec(names: ConfidenceHeadName[], segmConfidenceEpsilon: number): Pick<PipelineSpec['densepose'], 'confidences' | 'segmConfidenceEpsilon'> {
  return names.length === 0 ? {} : { confidences: names, segmConfidenceEpsilon };
}
