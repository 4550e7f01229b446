import * as tf from '@tensorflow/tfjs-core';
import type { FrozenBatchNormParams } from '../runtime/executor.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';
import type { Fpn } from './backbone/fpn.ts';

/**
 * Data-dependent init of a FrozenBN backbone trained from random weights: every FrozenBatchNorm2d gets
 * the per-channel mean and variance of its input on `image` as its running statistics (weight 1, bias 0),
 * layer by layer in one forward, so each layer sees the already calibrated ones before it.
 *
 * Why: FrozenBN is an identity until ImageNet statistics are loaded; with msra-filled convs and no
 * normalisation, the residual stages of an R50 multiply the activation scale by ~2 per block, so res5 and
 * the FPN reach ~1e6, the RPN logits ~1e5, and the first SGD step sends the weights to Inf/NaN. Calibrated
 * statistics make the frozen layers behave like batch norm at init (what pretrained buffers give), the same
 * treatment `../shared/tools/detectron2-reference/gen_d2.py` gives detectron2's random models.
 *
 * `image` `[1,H,W,3]` is a preprocessed model input (`preprocessImage`). Returns how many layers it set.
 */
export function calibrateFrozenBatchNorm(backbone: Fpn, image: tf.Tensor4D): number {
  const done = new Set<FrozenBatchNormParams>();
  const ex = new (class extends TfExecutor {
    override frozenBatchNorm(x: tf.Tensor, bn: FrozenBatchNormParams): tf.Tensor {
      if (!done.has(bn)) {
        const c = x.shape[x.shape.length - 1]!;
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        bn.runningMean.assign(mean);
        bn.runningVar.assign(variance);
        bn.weight.assign(tf.ones([c]));
        bn.bias.assign(tf.zeros([c]));
        done.add(bn);
      }
      return super.frozenBatchNorm(x, bn);
    }
  })();
  tf.tidy(() => {
    backbone.forward<tf.Tensor>(ex, image);
  });
  return done.size;
}
