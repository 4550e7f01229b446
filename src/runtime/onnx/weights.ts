/**
 * Weight layout conversions from our tfjs layouts to ONNX's, on plain typed arrays.
 */

/** `[kh,kw,I,O]` (HWIO, our conv layout; also tfjs conv2dTranspose's `[kh,kw,Cout,Cin]`) → `[O,I,kh,kw]`. */
export function hwioToOihw(src: Float32Array, dims: readonly number[]): { data: Float32Array; dims: number[] } {
  const [kh, kw, ci, co] = dims as [number, number, number, number];
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const base = (y * kw + x) * ci * co;
      for (let i = 0; i < ci; i++) {
        const row = base + i * co;
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = src[row + o]!;
      }
    }
  }
  return { data: out, dims: [co, ci, kh, kw] };
}

/** Inverse of {@link hwioToOihw}: `[O,I,kh,kw]` data → our `[kh,kw,I,O]` (`hwioDims`). */
export function oihwToHwio(src: Float32Array, hwioDims: readonly number[]): Float32Array {
  const [kh, kw, ci, co] = hwioDims as [number, number, number, number];
  const out = new Float32Array(src.length);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      const from = (o * ci + i) * kh * kw;
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + i) * co + o] = src[from + y * kw + x]!;
    }
  }
  return out;
}

/** Per-channel scale/shift of a frozen BN: y = x·scale + shift, computed in float64 before rounding. */
export function frozenBnScaleShift(weight: Float32Array, bias: Float32Array, mean: Float32Array, variance: Float32Array, eps: number): { scale: Float32Array; shift: Float32Array } {
  const c = weight.length;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const s = weight[k]! / Math.sqrt(variance[k]! + eps);
    scale[k] = s;
    shift[k] = bias[k]! - mean[k]! * s;
  }
  return { scale, shift };
}

/** Fold `y = conv(x)·scale + shift` into the conv: OIHW weight rows scaled by output channel, bias = b·scale + shift. */
export function foldScaleIntoConv(weightOihw: Float32Array, outChannels: number, bias: Float32Array | null, scale: Float32Array, shift: Float32Array): { weight: Float32Array; bias: Float32Array } {
  const per = weightOihw.length / outChannels;
  const w = new Float32Array(weightOihw.length);
  for (let o = 0; o < outChannels; o++) {
    const s = scale[o]!;
    for (let k = o * per, end = k + per; k < end; k++) w[k] = weightOihw[k]! * s;
  }
  const b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) b[o] = (bias ? bias[o]! : 0) * scale[o]! + shift[o]!;
  return { weight: w, bias: b };
}
