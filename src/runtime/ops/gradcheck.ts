/**
 * Test support for the ops: float64 reference implementations written from the PyTorch definitions
 * (plain loops, no tfjs), central finite differences on them, and a relative error measure.
 * Kept out of `*.test.ts` so every op test (and the bench's self-check) can share it.
 */

/** A dense float64 array with a shape, row-major (NHWC for images, HWIO for conv weights). */
export interface F64 {
  shape: number[];
  data: Float64Array;
}

export function f64(shape: number[], data?: ArrayLike<number>): F64 {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: data ? Float64Array.from(data) : new Float64Array(n) };
}

/** Deterministic uniform(−1,1) values (mulberry32), so failures reproduce. */
export function randomF64(shape: number[], seed: number): F64 {
  const out = f64(shape);
  let a = seed >>> 0;
  for (let i = 0; i < out.data.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.data[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export interface RefConvOptions {
  stride: number;
  padding: number;
  dilation: number;
  groups: number;
}

/** PyTorch Conv2d on NHWC x `[N,H,W,Cin]`, HWIO w `[kh,kw,Cin/g,Cout]`. */
export function refConv2d(x: F64, w: F64, o: RefConvOptions): F64 {
  const [n, h, wd, cin] = x.shape as [number, number, number, number];
  const [kh, kw, cpg, cout] = w.shape as [number, number, number, number];
  const opg = cout / o.groups;
  const ho = Math.floor((h + 2 * o.padding - o.dilation * (kh - 1) - 1) / o.stride) + 1;
  const wo = Math.floor((wd + 2 * o.padding - o.dilation * (kw - 1) - 1) / o.stride) + 1;
  const y = f64([n, ho, wo, cout]);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let co = 0; co < cout; co++) {
          const grp = Math.floor(co / opg);
          let acc = 0;
          for (let i = 0; i < kh; i++) {
            const iy = oy * o.stride - o.padding + i * o.dilation;
            if (iy < 0 || iy >= h) continue;
            for (let j = 0; j < kw; j++) {
              const ix = ox * o.stride - o.padding + j * o.dilation;
              if (ix < 0 || ix >= wd) continue;
              for (let c = 0; c < cpg; c++) acc += x.data[((b * h + iy) * wd + ix) * cin + grp * cpg + c]! * w.data[((i * kw + j) * cpg + c) * cout + co]!;
            }
          }
          y.data[((b * ho + oy) * wo + ox) * cout + co] = acc;
        }
  return y;
}

/** PyTorch ConvTranspose2d on NHWC x `[N,H,W,Cin]`, w `[kh,kw,Cout,Cin]` (scatter definition). */
export function refConvTranspose2d(x: F64, w: F64, stride: number, padding: number, outputPadding: number): F64 {
  const [n, h, wd, cin] = x.shape as [number, number, number, number];
  const [kh, kw, cout] = w.shape as [number, number, number, number];
  const ho = (h - 1) * stride - 2 * padding + kh + outputPadding;
  const wo = (wd - 1) * stride - 2 * padding + kw + outputPadding;
  const y = f64([n, ho, wo, cout]);
  for (let b = 0; b < n; b++)
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < wd; ix++)
        for (let i = 0; i < kh; i++) {
          const oy = iy * stride - padding + i;
          if (oy < 0 || oy >= ho) continue;
          for (let j = 0; j < kw; j++) {
            const ox = ix * stride - padding + j;
            if (ox < 0 || ox >= wo) continue;
            for (let co = 0; co < cout; co++) {
              let acc = 0;
              for (let ci = 0; ci < cin; ci++) acc += x.data[((b * h + iy) * wd + ix) * cin + ci]! * w.data[((i * kw + j) * cout + co) * cin + ci]!;
              y.data[((b * ho + oy) * wo + ox) * cout + co]! += acc;
            }
          }
        }
  return y;
}

/** PyTorch bilinear interpolate (align_corners True/False) on NHWC. */
export function refResizeBilinear(x: F64, outH: number, outW: number, alignCorners: boolean): F64 {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const y = f64([n, outH, outW, c]);
  const src = (dst: number, inS: number, outS: number): number => {
    if (alignCorners) return outS > 1 ? (dst * (inS - 1)) / (outS - 1) : 0;
    return Math.max(0, ((dst + 0.5) * inS) / outS - 0.5);
  };
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < outH; oy++) {
      const sy = src(oy, h, outH);
      const y0 = Math.min(Math.floor(sy), h - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const ly = sy - y0;
      for (let ox = 0; ox < outW; ox++) {
        const sx = src(ox, w, outW);
        const x0 = Math.min(Math.floor(sx), w - 1);
        const x1 = Math.min(x0 + 1, w - 1);
        const lx = sx - x0;
        for (let ch = 0; ch < c; ch++) {
          const at = (yy: number, xx: number) => x.data[((b * h + yy) * w + xx) * c + ch]!;
          y.data[((b * outH + oy) * outW + ox) * c + ch] =
            (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        }
      }
    }
  return y;
}

/**
 * Central finite differences of `L(inputs) = Σ f(inputs)·r` w.r.t. every element of `inputs[k]`,
 * in float64. For ops linear in the input the result is exact up to rounding.
 */
export function finiteDiff(f: (inputs: F64[]) => F64, inputs: F64[], k: number, r: F64, eps = 1e-3): F64 {
  const loss = (ins: F64[]): number => {
    const y = f(ins);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i]! * r.data[i]!;
    return s;
  };
  const target = inputs[k]!;
  const g = f64(target.shape);
  for (let i = 0; i < target.data.length; i++) {
    const keep = target.data[i]!;
    target.data[i] = keep + eps;
    const lp = loss(inputs);
    target.data[i] = keep - eps;
    const lm = loss(inputs);
    target.data[i] = keep;
    g.data[i] = (lp - lm) / (2 * eps);
  }
  return g;
}

/** max |a−b| / max |b|: the relative error of `a` against the reference `b`. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}
