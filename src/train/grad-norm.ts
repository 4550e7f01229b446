import * as tf from '@tensorflow/tfjs-core';

/** Global L2 norm over every gradient (what clipping and the log's `gradNorm` use). */
export function globalGradNorm(grads: ReadonlyMap<string, tf.Tensor>): number {
  return tf.tidy(() => {
    const sq = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return sq.length ? Math.sqrt(tf.addN(sq).dataSync()[0]!) : 0;
  });
}

/** Factor that brings `norm` down to `clipNorm` (1 when clipping is off or not needed). */
export function clipScale(norm: number, clipNorm: number): number {
  return clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
}
