import * as tf from '@tensorflow/tfjs-core';
import type { InputOptions } from './config.ts';
import { checkImageSize } from './image-size.ts';
import { INPUT_DEFAULTS, resizedShape } from './input-size.ts';

export { INPUT_DEFAULTS, resizedShape } from './input-size.ts';

export interface PreprocessOptions extends InputOptions {
  /** Channel order of `pixels`. @default 'RGB' */
  pixelFormat?: 'RGB' | 'BGR';
  /** Resize the short side to `minSizeTest` (false: feed as is, like the parity fixture). @default true */
  resize?: boolean;
}

/** A model input: normalised, padded image and the sizes needed to map results back. */
export interface PreparedImage {
  /** `[1,Hp,Wp,3]` float32 NHWC in the model's channel order, zero-padded bottom/right to the size divisibility. */
  tensor: tf.Tensor4D;
  /** Unpadded model-input size `[h, w]`. */
  imageSize: [number, number];
  /** model-input pixels per original pixel `[sy, sx]`. */
  scale: [number, number];
}

/**
 * Image `Uint8Array [H,W,3]` (HWC) → model input: channel order, optional resize (bilinear, half-pixel),
 * `(x − mean) / std`, pad to a multiple of 32. Checks the size before allocating.
 */
export function preprocessImage(pixels: Uint8Array, height: number, width: number, options: PreprocessOptions = {}): PreparedImage {
  checkImageSize(height, width);
  const o = { ...INPUT_DEFAULTS, ...options };
  const [h, w] = options.resize === false ? [height, width] : resizedShape(height, width, o.minSizeTest, o.maxSizeTest);
  const div = o.sizeDivisibility;
  const hp = Math.ceil(h / div) * div;
  const wp = Math.ceil(w / div) * div;
  const tensor = tf.tidy(() => {
    let x: tf.Tensor3D = tf.tensor3d(Float32Array.from(pixels), [height, width, 3]);
    if ((options.pixelFormat ?? 'RGB') !== o.format) x = tf.reverse(x, 2);
    let x4 = tf.expandDims(x, 0) as tf.Tensor4D;
    if (h !== height || w !== width) x4 = tf.image.resizeBilinear(x4, [h, w], false, true);
    x4 = tf.div(tf.sub(x4, tf.tensor1d([...o.pixelMean])), tf.tensor1d([...o.pixelStd]));
    return tf.pad(x4, [[0, 0], [0, hp - h], [0, wp - w], [0, 0]]);
  });
  return { tensor, imageSize: [h, w], scale: [h / height, w / width] };
}
