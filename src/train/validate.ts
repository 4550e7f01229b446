import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { CocoDataset, LoadedResult } from '../data/coco.ts';
import { loadCocoJson } from '../data/coco.ts';
import { evaluateDetections } from '../eval/detection-eval.ts';
import { evaluateDensePose } from '../eval/densepose-eval.ts';
import { loadSmplBodyModel, type BodyModel } from '../eval/body-model.ts';
import type { DensePoseDetection, IuvBox } from '../eval/densepose-results.ts';
import { createDensePose, type InferBackend } from '../infer/densepose.ts';
import type { DensePoseMap } from '../infer/types.ts';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { resolveDataPaths } from './datasets.ts';

export interface ValidateOptions {
  /** Shortest side at test time. @default the model config's minSizeTest */
  minSizeTest?: number;
  maxSizeTest?: number;
  /** Evaluate at most this many images (in file order). @default all */
  maxImages?: number;
  /** Body model for GPS; default: `<val>/body` when present (DensePose AP is skipped without one). */
  body?: BodyModel;
  /** Also GPSm AP and the ARs (`bboxAR`, `gpsAR`, `gpsmAP`, `gpsmAR`). @default false */
  full?: boolean;
  /**
   * Where the inference pipeline runs: ONNX Runtime on stages exported from the model's current weights
   * (once per call), or the same stages on tfjs. @default 'onnx'
   */
  engine?: InferBackend;
  /** ORT intra-op threads; 0 = one per core. @default 0 */
  threads?: number;
}

/** A person's box-size map as the planar `[3,h,w]` bytes (I, U·255, V·255) of its `uv_data` PNG. */
function iuvBox(map: DensePoseMap): IuvBox {
  const { width: w, height: h } = map;
  const iuv = map.toIUV();
  const n = w * h;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    data[i] = iuv[3 * i]!;
    data[n + i] = iuv[3 * i + 1]!;
    data[2 * n + i] = iuv[3 * i + 2]!;
  }
  return { height: h, width: w, data };
}

/** A validation set's ground truth, the images evaluated and its body model (if any). */
interface ValidationSet {
  gt: CocoDataset;
  imageDir: string;
  images: CocoDataset['images'];
  body: BodyModel | undefined;
}

function validationSet(valPath: string, options: ValidateOptions): ValidationSet {
  const { json, imageDir } = resolveDataPaths(valPath);
  const gt: CocoDataset = loadCocoJson(json);
  const bodyDir = join(valPath, 'body');
  const body = options.body ?? (existsSync(bodyDir) ? loadSmplBodyModel(bodyDir) : undefined);
  return { gt, imageDir, images: gt.images.slice(0, options.maxImages ?? gt.images.length), body };
}

/**
 * The model's results on a validation set, through the inference pipeline on its current weights
 * (`createDensePose` on the built model), as `densepose infer` writes them and `densepose eval` reads
 * them back. Detections are kept down to the config's `scoreThreshTest`.
 */
export async function validationResults(rcnn: DensePoseRcnn, valPath: string, options: ValidateOptions = {}): Promise<DensePoseDetection[]> {
  return predict(rcnn, validationSet(valPath, options), options);
}

async function predict(rcnn: DensePoseRcnn, set: ValidationSet, options: ValidateOptions): Promise<DensePoseDetection[]> {
  const results: DensePoseDetection[] = [];
  const dp = await createDensePose({
    model: rcnn,
    backend: options.engine ?? 'onnx',
    threads: options.threads ?? 0,
    batchSize: 1,
    scoreThreshold: rcnn.model.roi_heads.options.scoreThreshTest,
    ...(options.minSizeTest !== undefined ? { minSize: options.minSizeTest } : {}),
    ...(options.maxSizeTest !== undefined ? { maxSize: options.maxSizeTest } : {}),
  });
  try {
    for (const im of set.images) {
      for (const person of await dp.estimate(join(set.imageDir, im.file_name))) {
        const bbox = person.box;
        results.push({ image_id: im.id, category_id: 1, bbox, score: person.score, id: results.length + 1, area: bbox[2] * bbox[3], index: results.length, iuv: iuvBox(person.densepose) });
      }
    }
  } finally {
    await dp.dispose();
  }
  return results;
}

/**
 * Validation on a COCO-DensePose folder: {@link validationResults} → bbox AP (COCOeval) and DensePose
 * GPS AP against the set's body model. Returns `{ bboxAP, bboxAP50, gpsAP, gpsAP50 }`.
 */
export async function validateRcnn(rcnn: DensePoseRcnn, valPath: string, options: ValidateOptions = {}): Promise<Record<string, number>> {
  const set = validationSet(valPath, options);
  const { gt, images, body } = set;
  const results = await predict(rcnn, set, options);
  const scores: Record<string, number> = {};
  const subset: CocoDataset = { ...gt, images, annotations: gt.annotations.filter((a) => images.some((im) => im.id === a.image_id)) };
  const bbox = evaluateDetections(subset, results as LoadedResult[], 'bbox');
  scores.bboxAP = bbox.stats[0]!;
  scores.bboxAP50 = bbox.stats[1]!;
  if (options.full) scores.bboxAR = bbox.stats[8]!; // AR@100
  if (body) {
    const dp = evaluateDensePose(subset, results, body, { modes: options.full ? ['gps', 'gpsm'] : ['gps'] });
    scores.gpsAP = dp.gps?.stats[0] ?? 0;
    scores.gpsAP50 = dp.gps?.stats[1] ?? 0;
    if (options.full) {
      scores.gpsAR = dp.gps?.named.AR ?? 0;
      scores.gpsmAP = dp.gpsm?.stats[0] ?? 0;
      scores.gpsmAR = dp.gpsm?.named.AR ?? 0;
    }
  }
  return scores;
}
