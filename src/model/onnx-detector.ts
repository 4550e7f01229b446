import { exportOnnx } from '../runtime/onnx/export.ts';
import type { OnnxValue } from '../runtime/onnx/onnx-executor.ts';
import { createSession, type OnnxSession, type OnnxTensor, type SessionOptions } from '../runtime/onnx/session.ts';
import { FPN_LEVELS, type FpnLevel } from './backbone/fpn.ts';
import { STAGE_NAMES, type StageName } from './config.ts';
import type { GeneralizedRcnn } from './detector.ts';
import { checkImageSize } from './image-size.ts';
import { boxInference, type Detections } from './roi-heads/box-head.ts';
import { BOX_POOLER_SCALES } from './roi-heads/roi-heads.ts';
import { roiAlignMultiLevelArrays } from './roi-align.ts';
import type { Proposals } from './rpn/rpn.ts';
import { DensePoseError } from '../errors.ts';

/** The detector's two ONNX stages; proposals, RoIAlign and NMS run in TS between them. */
export interface DetectorOnnx {
  /**
   * `image` `[1,H,W,3]` NHWC (H, W dynamic, multiples of 32) → `p2..p6` NHWC, `rpn_logits_2..6` `[1,H_l,W_l,A]`,
   * `rpn_deltas_2..6` `[1,H_l,W_l,4A]` (and `res2..res5` when exported with `stages`).
   */
  body: Uint8Array;
  /** `pooled` `[R,r,r,C]` NHWC → `cls_logits` `[R,K+1]`, `bbox_deltas` `[R,4M]`. */
  boxHead: Uint8Array;
}

export interface ExportDetectorOptions {
  /** Also output the ResNet stages res2..res5 (parity checks). @default false */
  stages?: boolean;
}

function bodyOutputNames(stages: boolean): string[] {
  return [...(stages ? STAGE_NAMES : []), ...FPN_LEVELS, ...FPN_LEVELS.map((l) => `rpn_logits_${l.slice(1)}`), ...FPN_LEVELS.map((l) => `rpn_deltas_${l.slice(1)}`)];
}

/** Export the backbone+FPN+RPN convs and the box head of `model` as ONNX graphs (weights included). */
export function exportDetectorOnnx(model: GeneralizedRcnn, options: ExportDetectorOptions = {}): DetectorOnnx {
  const stages = options.stages ?? false;
  const body = exportOnnx(
    model,
    (ex, [x]) => {
      const f = model.backbone.forward<OnnxValue>(ex, x!);
      const levels = FPN_LEVELS.map((l) => f[l]);
      const head = model.proposal_generator.rpn_head.forward(ex, levels);
      return [...(stages ? STAGE_NAMES.map((s) => f[s]) : []), ...levels, ...head.logits, ...head.deltas];
    },
    { inputs: [{ name: 'image', shape: [1, -1, -1, 3] }], outputNames: bodyOutputNames(stages), docString: `${model.config.name ?? 'detector'}: backbone + FPN + RPN head` },
  );
  const r = model.roi_heads.options.poolerResolution;
  const boxHead = exportOnnx(
    model,
    (ex, [x]) => {
      const pred = model.roi_heads.box_predictor.forward(ex, model.roi_heads.box_head.forward(ex, x!));
      return [pred.scores, pred.deltas];
    },
    { inputs: [{ name: 'pooled', shape: [-1, r, r, model.backbone.outChannels] }], outputNames: ['cls_logits', 'bbox_deltas'], docString: 'box head' },
  );
  return { body, boxHead };
}

/** Output of {@link OnnxDetector.detect}: every feature map NHWC as ORT returned it. */
export interface OnnxDetectorOutput {
  features: Partial<Record<FpnLevel | StageName, OnnxTensor>>;
  proposals: Proposals;
  detections: Detections;
}

/** The detector on ONNX Runtime: two sessions and the TS glue (proposals, RoIAlign, NMS) of `model`. */
export class OnnxDetector {
  private constructor(
    private readonly model: GeneralizedRcnn,
    private readonly body: OnnxSession,
    private readonly boxHead: OnnxSession,
  ) {}

  static async create(model: GeneralizedRcnn, options: SessionOptions & ExportDetectorOptions = {}): Promise<OnnxDetector> {
    const graphs = exportDetectorOnnx(model, options);
    const body = await createSession(graphs.body, options);
    const boxHead = await createSession(graphs.boxHead, options);
    return new OnnxDetector(model, body, boxHead);
  }

  /** Run the backbone+FPN+RPN stage only. `image` NHWC `[1,Hp,Wp,3]` data. */
  async runBody(image: Float32Array, paddedSize: readonly [number, number]): Promise<Record<string, OnnxTensor>> {
    const [hp, wp] = paddedSize;
    checkImageSize(hp, wp, 'detector input');
    if (hp % 32 !== 0 || wp % 32 !== 0 || image.length !== hp * wp * 3) {
      throw new DensePoseError('BAD_INPUT', `OnnxDetector: image must be [1,H,W,3] with H, W multiples of 32; got ${image.length} values for ${hp}×${wp}`);
    }
    return this.body.run({ image: { data: image, shape: [1, hp, wp, 3] } });
  }

  /** Full detection: `image` normalised, padded NHWC `[1,Hp,Wp,3]`; `imageSize` the unpadded `[h, w]`. */
  async detect(image: Float32Array, paddedSize: readonly [number, number], imageSize: readonly [number, number]): Promise<OnnxDetectorOutput> {
    const out = await this.runBody(image, paddedSize);
    const get = (name: string): OnnxTensor => out[name]!;
    const levels = FPN_LEVELS.map((l) => get(l));
    const rpn = this.model.proposal_generator;
    const proposals = rpn.propose(
      FPN_LEVELS.map((l) => get(`rpn_logits_${l.slice(1)}`).data as Float32Array),
      FPN_LEVELS.map((l) => get(`rpn_deltas_${l.slice(1)}`).data as Float32Array),
      levels.map((t) => [t.shape[1]!, t.shape[2]!] as const),
      imageSize,
      'test',
    );
    const o = this.model.roi_heads.options;
    const r = o.poolerResolution;
    const c = levels[0]!.shape[3]!;
    const pooled = roiAlignMultiLevelArrays(
      levels.slice(0, 4).map((t) => t.data as Float32Array),
      levels.slice(0, 4).map((t) => t.shape as [number, number, number, number]),
      proposals.boxes,
      { outputSize: [r, r], scales: BOX_POOLER_SCALES, samplingRatio: o.poolerSamplingRatio, aligned: o.poolerType === 'ROIAlignV2' },
    );
    const numBoxes = proposals.boxes.length / 4;
    let detections: Detections = { boxes: new Float32Array(0), scores: new Float32Array(0), classes: new Int32Array(0) };
    if (numBoxes > 0) {
      const head = await this.boxHead.run({ pooled: { data: pooled, shape: [numBoxes, r, r, c] } });
      detections = boxInference(head['cls_logits']!.data as Float32Array, head['bbox_deltas']!.data as Float32Array, proposals.boxes, imageSize, {
        numClasses: o.numClasses,
        bboxRegWeights: o.bboxRegWeights,
        scoreThresh: o.scoreThreshTest,
        nmsThresh: o.nmsThreshTest,
        topK: o.detectionsPerImage,
      });
    }
    const features: OnnxDetectorOutput['features'] = {};
    for (const name of [...STAGE_NAMES, ...FPN_LEVELS]) if (out[name]) features[name] = out[name];
    return { features, proposals, detections };
  }

  async dispose(): Promise<void> {
    await this.body.dispose();
    await this.boxHead.dispose();
  }
}
