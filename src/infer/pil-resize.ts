// Pillow's `Image.resize(size, Image.BILINEAR)` on 8-bit images, bit for bit: what detectron2's
// DefaultPredictor does to uint8 images (ResizeShortestEdge → ResizeTransform → PIL). Pillow resamples
// with a triangle filter whose support grows with the downscale factor (so it antialiases), in two
// separable passes — horizontal, then vertical — each rounding to uint8, with fixed-point coefficients
// (22 fractional bits). Written from Pillow's documented algorithm (libImaging/Resample.c); no tfjs.

/** Fractional bits of Pillow's 8-bit fixed-point coefficients (32 − 8 − 2). */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  /** First input index of each output sample. */
  start: Int32Array;
  /** Taps of each output sample. */
  count: Int32Array;
  /** `[out, ksize]` fixed-point weights. */
  weights: Int32Array;
  ksize: number;
}

function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear filter over the whole input. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C casts truncate toward zero
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww === 0 ? k[x]! : k[x]! / ww;
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, ksize };
}

function clip8(acc: number): number {
  const v = Math.floor(acc / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resize interleaved 8-bit pixels `[height, width, channels]` to `[outHeight, outWidth, channels]` as
 * Pillow's BILINEAR does (a pass is skipped when its size is unchanged, as in Pillow).
 */
export function pilResizeBilinear(src: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
  let data: Uint8Array | Uint8ClampedArray = src;
  let w = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth);
    const out = new Uint8Array(outWidth * height * channels);
    for (let y = 0; y < height; y++) {
      const row = y * width * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const s = c.start[xx]!;
        const n = c.count[xx]!;
        const kb = xx * c.ksize;
        for (let ch = 0; ch < channels; ch++) {
          let acc = HALF;
          for (let x = 0; x < n; x++) acc += data[row + (s + x) * channels + ch]! * c.weights[kb + x]!;
          out[(y * outWidth + xx) * channels + ch] = clip8(acc);
        }
      }
    }
    data = out;
    w = outWidth;
  }
  if (outHeight !== height) {
    const c = coefficients(height, outHeight);
    const out = new Uint8Array(w * outHeight * channels);
    const stride = w * channels;
    for (let yy = 0; yy < outHeight; yy++) {
      const s = c.start[yy]!;
      const n = c.count[yy]!;
      const kb = yy * c.ksize;
      for (let i = 0; i < stride; i++) {
        let acc = HALF;
        for (let y = 0; y < n; y++) acc += data[(s + y) * stride + i]! * c.weights[kb + y]!;
        out[yy * stride + i] = clip8(acc);
      }
    }
    data = out;
  }
  return data === src ? Uint8Array.from(src) : (data as Uint8Array);
}
