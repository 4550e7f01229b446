// Model input without tfjs (the ONNX pipeline runs in browsers too): the same arithmetic as
// `preprocessImage` (src/model/preprocess.ts), for a batch padded to one size.
import { DensePoseError } from '../errors.ts';
import { checkImageSize } from '../model/image-size.ts';
import { resizedShape } from '../model/preprocess.ts';
import { pilResizeBilinear } from './pil-resize.ts';
import type { PipelineSpec } from './spec.ts';

/** An 8-bit RGB image, row-major interleaved `[height, width, 3]`. */
export interface PixelImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Options of {@link prepareBatch}. */
export interface PrepareOptions {
  /** Short side after resizing. @default spec.input.minSizeTest */
  minSize?: number;
  /** Long-side limit. @default spec.input.maxSizeTest */
  maxSize?: number;
  /**
   * How images are resized: `float` — bilinear on float values, half-pixel centres (tfjs' resizeBilinear);
   * `detectron2` — as detectron2's DefaultPredictor on uint8 images: Pillow's BILINEAR (antialiased when
   * shrinking, rounded to uint8 after each pass), exactly. @default 'float'
   */
  preprocess?: PreprocessMode;
}

export const PREPROCESS_MODES = ['float', 'detectron2'] as const;
export type PreprocessMode = (typeof PREPROCESS_MODES)[number];

/** A batch of model inputs padded to one size. */
export interface PreparedBatch {
  /** `[N,Hp,Wp,3]` float32 NHWC in the model's channel order, normalised, zero-padded bottom/right. */
  data: Float32Array;
  count: number;
  paddedSize: [number, number];
  /** Unpadded model-input size `[h, w]` of each image. */
  sizes: [number, number][];
  /** Model-input pixels per original pixel `[sy, sx]` of each image. */
  scales: [number, number][];
}

/**
 * Resize (bilinear, half-pixel centres: tfjs `resizeBilinear(…, false, true)`, written out so that no tfjs
 * backend is needed), reorder channels, `(x − mean) / std`, pad every image to the batch's largest size
 * rounded up to the size divisibility.
 */
export function prepareBatch(images: readonly PixelImage[], spec: PipelineSpec, options: PrepareOptions = {}): PreparedBatch {
  if (images.length === 0) throw new DensePoseError('BAD_INPUT', 'prepareBatch: no images');
  const min = options.minSize ?? spec.input.minSizeTest;
  const max = options.maxSize ?? spec.input.maxSizeTest;
  if (!(Number.isInteger(min) && min > 0 && Number.isInteger(max) && max >= min)) {
    throw new DensePoseError('BAD_OPTION', `minSize/maxSize must be positive integers with maxSize ≥ minSize, got ${min}/${max}`);
  }
  const div = spec.input.sizeDivisibility;
  const sizes = images.map((im, i) => {
    checkImageSize(im.height, im.width, `image ${i}`);
    if (im.data.length !== im.width * im.height * 3) throw new DensePoseError('SHAPE_MISMATCH', `image ${i}: ${im.data.length} bytes for ${im.width}×${im.height}×3`);
    return resizedShape(im.height, im.width, min, max);
  });
  const hp = Math.ceil(Math.max(...sizes.map((s) => s[0])) / div) * div;
  const wp = Math.ceil(Math.max(...sizes.map((s) => s[1])) / div) * div;
  const data = new Float32Array(images.length * hp * wp * 3);
  const bgr = spec.input.format === 'BGR';
  const mean = spec.input.pixelMean;
  const inv = spec.input.pixelStd.map((s) => 1 / s);
  // Channel c of the output reads channel src[c] of the RGB input.
  const src = bgr ? [2, 1, 0] : [0, 1, 2];
  const mode = options.preprocess ?? 'float';
  if (!(PREPROCESS_MODES as readonly string[]).includes(mode)) throw new DensePoseError('BAD_OPTION', `Unknown preprocess "${mode}". Expected one of: ${PREPROCESS_MODES.join(', ')}.`);
  images.forEach((original, n) => {
    const [h, w] = sizes[n]!;
    // detectron2 mode: resize the uint8 pixels as Pillow does; the float pass below is then the identity.
    const im =
      mode === 'detectron2' && (h !== original.height || w !== original.width)
        ? { width: w, height: h, data: pilResizeBilinear(original.data, original.width, original.height, 3, w, h) }
        : original;
    const { width: W, height: H, data: px } = im;
    const ry = H / h;
    const rx = W / w;
    const x0 = new Int32Array(w);
    const x1 = new Int32Array(w);
    const fx = new Float32Array(w);
    for (let x = 0; x < w; x++) {
      const s = rx * (x + 0.5) - 0.5;
      const f = Math.max(0, Math.floor(s));
      x0[x] = f * 3;
      x1[x] = Math.min(W - 1, Math.ceil(s)) * 3;
      fx[x] = s - f;
    }
    const base = n * hp * wp * 3;
    for (let y = 0; y < h; y++) {
      const s = ry * (y + 0.5) - 0.5;
      const f = Math.max(0, Math.floor(s));
      const fy = s - f;
      const top = f * W * 3;
      const bot = Math.min(H - 1, Math.ceil(s)) * W * 3;
      let o = base + y * wp * 3;
      for (let x = 0; x < w; x++) {
        const a = x0[x]!;
        const b = x1[x]!;
        const t = fx[x]!;
        for (let c = 0; c < 3; c++) {
          const k = src[c]!;
          const tl = px[top + a + k]!;
          const tr = px[top + b + k]!;
          const bl = px[bot + a + k]!;
          const br = px[bot + b + k]!;
          const up = tl + (tr - tl) * t;
          const down = bl + (br - bl) * t;
          data[o++] = (up + (down - up) * fy - mean[c]!) * inv[c]!;
        }
      }
    }
  });
  return { data, count: images.length, paddedSize: [hp, wp], sizes, scales: sizes.map(([h, w], i) => [h / images[i]!.height, w / images[i]!.width]) };
}
