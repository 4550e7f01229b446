// RoIAlign as tfjs ops (training and the tfjs reference executor): forward and backward on the typed
// arrays of roi-align.ts, tied into tfjs autodiff by `tf.customGrad`; and the same op from tfjs kernels.
import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../errors.ts';
import { assignFpnLevels, buildTaps, planBoxes, roiAlignArrays, roiAlignBackwardArrays, validate, type MultiLevelRoiAlignOptions, type RoiAlignOptions } from './roi-align.ts';

/**
 * RoIAlign on an NHWC feature map: features `[N,H,W,C]` (usually N = 1), boxes `Float32Array [K,4]`
 * (x1,y1,x2,y2 in input-image pixels) → `[K,h,w,C]`. Differentiable w.r.t. `features`.
 * torchvision semantics: `aligned` shifts by half a pixel; legacy mode clamps RoI size to ≥ 1 px.
 */
export function roiAlign(features: tf.Tensor4D, boxes: Float32Array, options: RoiAlignOptions): tf.Tensor4D {
  const shape = features.shape;
  validate(shape, boxes, options);
  const [oh, ow] = options.outputSize;
  const outShape: [number, number, number, number] = [boxes.length / 4, oh, ow, shape[3]];
  // Forward on arrays; customGrad only ties the result to `features` so tf.grad reaches the backward.
  const y = roiAlignArrays(features.dataSync() as Float32Array, shape, boxes, options);
  const op = tf.customGrad(((x: tf.Tensor) => ({
    value: tf.tensor4d(y, outShape),
    gradFunc: (dy: tf.Tensor) => [tf.tensor4d(roiAlignBackwardArrays(dy.dataSync() as Float32Array, shape, boxes, options), x.shape as [number, number, number, number])],
  })) as Parameters<typeof tf.customGrad>[0]);
  return op(features) as tf.Tensor4D;
}

/**
 * The same op built from tfjs kernels (gather of the taps, weighted sum), for backends where a device
 * round trip costs more than the ops; gradients come from tfjs (`gather` → unsorted segment sum).
 * Each bin is padded to the box set's largest tap count with zero-weight taps.
 */
export function roiAlignOps(features: tf.Tensor4D, boxes: Float32Array, options: RoiAlignOptions): tf.Tensor4D {
  const shape = features.shape;
  validate(shape, boxes, options);
  const [oh, ow] = options.outputSize;
  const k = boxes.length / 4;
  const cells = k * oh * ow;
  const c = shape[3];
  const { cellStart, inBase, weight: w } = buildTaps(planBoxes(boxes, shape[1], shape[2], options), shape, options.outputSize);
  let taps = 1;
  for (let q = 0; q < cells; q++) taps = Math.max(taps, cellStart[q + 1]! - cellStart[q]!);
  const index = new Int32Array(cells * taps);
  const weight = new Float32Array(cells * taps);
  for (let q = 0; q < cells; q++) {
    for (let t = cellStart[q]!, j = q * taps; t < cellStart[q + 1]!; t++, j++) {
      index[j] = inBase[t]! / c;
      weight[j] = w[t]!;
    }
  }
  return tf.tidy(() => {
    const flat = tf.reshape(features, [-1, c]);
    const gathered = tf.reshape(tf.gather(flat, tf.tensor1d(index, 'int32')), [cells, taps, c]);
    const summed = tf.sum(tf.mul(gathered, tf.tensor3d(weight, [cells, taps, 1])), 1);
    return tf.reshape(summed, [k, oh, ow, c]) as tf.Tensor4D;
  });
}

/**
 * detectron2's `ROIPooler` over FPN levels: each box pooled from the level its size selects.
 * features: one `[1,H_l,W_l,C]` per level, finest first → `[K,h,w,C]` in box order.
 */
export function roiAlignMultiLevel(features: readonly tf.Tensor4D[], boxes: Float32Array, options: MultiLevelRoiAlignOptions): tf.Tensor4D {
  if (features.length !== options.scales.length) {
    throw new DensePoseError('BAD_OPTION', `roiAlignMultiLevel: ${features.length} feature maps but ${options.scales.length} scales`);
  }
  const [oh, ow] = options.outputSize;
  const c = features[0]!.shape[3];
  const k = boxes.length / 4;
  if (k === 0) return tf.zeros([0, oh, ow, c]);
  const minLevel = options.minLevel ?? 2;
  const levels = features.length === 1 ? new Int32Array(k) : assignFpnLevels(boxes, { ...options, minLevel, maxLevel: options.maxLevel ?? minLevel + features.length - 1 });
  if (features.length === 1) return roiAlign(features[0]!, boxes, { ...options, spatialScale: options.scales[0]! });
  return tf.tidy(() => {
    const parts: tf.Tensor4D[] = [];
    const order: number[] = [];
    for (let l = 0; l < features.length; l++) {
      const idx: number[] = [];
      for (let i = 0; i < k; i++) if (levels[i] === l) idx.push(i);
      if (idx.length === 0) continue;
      const sub = new Float32Array(idx.length * 4);
      idx.forEach((i, j) => sub.set(boxes.subarray(4 * i, 4 * i + 4), 4 * j));
      parts.push(roiAlign(features[l]!, sub, { ...options, spatialScale: options.scales[l]! }));
      order.push(...idx);
    }
    const stacked = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
    const inverse = new Int32Array(k);
    order.forEach((box, row) => (inverse[box] = row));
    return tf.gather(stacked, tf.tensor1d(inverse, 'int32')) as tf.Tensor4D;
  });
}
