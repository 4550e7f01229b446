import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { CocoDataset, LoadedResult } from '../data/coco.ts';
import { loadCocoJson } from '../data/coco.ts';
import type { BoxXywh } from '../data/mask.ts';
import { evaluateDetections } from '../eval/detection-eval.ts';
import { evaluateDensePose } from '../eval/densepose-eval.ts';
import { loadSmplBodyModel, type BodyModel } from '../eval/body-model.ts';
import type { DensePoseDetection } from '../eval/densepose-results.ts';
import { iuvSizeForBox } from '../eval/densepose-results.ts';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { FPN_LEVELS } from '../model/backbone/fpn.ts';
import { estimateDensePose } from '../model/densepose/estimate.ts';
import { preprocessImage } from '../model/preprocess.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';
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
}

/** Box-size IUV planes `[3,h,w]` resampled (nearest) from a box-size result in model-input pixels. */
function planarIuv(labels: Uint8Array, iuv: Uint8Array, sw: number, sh: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(3 * w * h);
  const n = w * h;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / h));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / w));
      const s = sy * sw + sx;
      out[y * w + x] = labels[s]!;
      out[n + y * w + x] = iuv[3 * s + 1]!;
      out[2 * n + y * w + x] = iuv[3 * s + 2]!;
    }
  }
  return out;
}

/**
 * Validation on a COCO-DensePose folder with the model on tfjs: detections → bbox AP (COCOeval) and
 * dense results → DensePose GPS AP against the set's body model. Returns `{ bboxAP, bboxAP50, gpsAP, gpsAP50 }`.
 */
export async function validateRcnn(rcnn: DensePoseRcnn, valPath: string, options: ValidateOptions = {}): Promise<Record<string, number>> {
  const { json, imageDir } = resolveDataPaths(valPath);
  const gt: CocoDataset = loadCocoJson(json);
  const bodyDir = join(valPath, 'body');
  const body = options.body ?? (existsSync(bodyDir) ? loadSmplBodyModel(bodyDir) : undefined);
  const input = rcnn.config.input ?? {};
  const ex = new TfExecutor();
  const results: DensePoseDetection[] = [];
  const images = gt.images.slice(0, options.maxImages ?? gt.images.length);
  for (const im of images) {
    const { data, info } = await sharp(join(imageDir, im.file_name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const prepared = preprocessImage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.height, info.width, {
      ...input,
      minSizeTest: options.minSizeTest ?? input.minSizeTest,
      maxSizeTest: options.maxSizeTest ?? input.maxSizeTest,
    });
    const out = rcnn.model.detect(prepared.tensor, prepared.imageSize);
    try {
      const levels = FPN_LEVELS.slice(0, 4).map((l) => out.features[l]);
      const dense = await estimateDensePose(rcnn.densepose, ex, levels, out.detections.boxes, { imageSize: prepared.imageSize });
      const [sy, sx] = prepared.scale;
      out.detections.scores.forEach((score, k) => {
        const b = out.detections.boxes.subarray(4 * k, 4 * k + 4);
        const bbox: BoxXywh = [b[0]! / sx, b[1]! / sy, (b[2]! - b[0]!) / sx, (b[3]! - b[1]!) / sy];
        const r = dense.results[k];
        if (!r) return;
        const [h, w] = iuvSizeForBox(bbox);
        results.push({
          image_id: im.id,
          category_id: 1,
          bbox,
          score,
          id: results.length + 1,
          area: bbox[2] * bbox[3],
          index: results.length,
          iuv: { height: h, width: w, data: planarIuv(r.labels, r.toIUV(), r.width, r.height, w, h) },
        });
      });
    } finally {
      tf.dispose([prepared.tensor, ...Object.values(out.features)]);
    }
  }
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
