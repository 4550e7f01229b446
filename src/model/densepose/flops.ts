import type { DensePoseHeadConfig } from './config.ts';

/** Multiply-adds ×2 of the conv layers (norms, ReLUs, resizes left out), per box for the head and per image for the decoder. */
export interface DensePoseFlops {
  /** Head body + predictor, one RoI. */
  headPerBox: number;
  /** Decoder on an `[imageH, imageW]` input (0 without a decoder). */
  decoderPerImage: number;
}

const conv = (k: number, cin: number, cout: number, h: number, w: number): number => 2 * k * k * cin * cout * h * w;

export function densePoseFlops(c: DensePoseHeadConfig, imageSize: readonly [number, number] = [800, 1088]): DensePoseFlops {
  const [h, w] = c.poolerResolution;
  const inC = c.decoder ? c.decoderNumClasses : c.inChannels;
  const dim = c.convHeadDim;
  const k = c.convHeadKernel;
  const aspp = (cin: number, cout: number, rates: number, pool: boolean): number =>
    conv(1, cin, cout, h, w) + rates * conv(3, cin, cout, h, w) + (pool ? conv(1, cin, cout, 1, 1) : 0) + conv(1, (2 + rates - (pool ? 0 : 1)) * cout, cout, h, w);
  let body = 0;
  let cur = inC;
  if (c.head === 'deeplab') {
    body += aspp(inC, inC, 3, true);
  }
  for (let i = 0; i < c.numStackedConvs; i++) {
    body += conv(k, cur, dim, h, w);
    cur = dim;
  }
  if (c.head === 'aspp') {
    body += aspp(cur, dim, c.aspp.rates.length, c.aspp.imagePooling);
    cur = dim;
  }
  const outC = c.numCoarseSegmChannels + 3 * (c.numPatches + 1);
  // A stride-2 ConvTranspose scatters k² taps per input pixel: the same count as a k×k conv at the input size.
  const pred = c.upsample === 'deconv' ? conv(c.deconvKernel, cur, outC, h, w) : conv(c.stlKernel, cur, outC * c.stlFactor * c.stlFactor, h, w);
  let decoder = 0;
  if (c.decoder) {
    const [ih, iw] = imageSize;
    const common = c.featureStrides[0]!;
    for (const s of c.featureStrides) {
      const n = Math.max(1, Math.round(Math.log2(s / common)));
      let fh = Math.ceil(ih / s);
      let fw = Math.ceil(iw / s);
      for (let j = 0; j < n; j++) {
        decoder += conv(3, j === 0 ? c.inChannels : c.decoderConvDims, c.decoderConvDims, fh, fw);
        if (s !== common) {
          fh *= 2;
          fw *= 2;
        }
      }
    }
    decoder += conv(1, c.decoderConvDims, c.decoderNumClasses, Math.ceil(ih / common), Math.ceil(iw / common));
  }
  return { headPerBox: body + pred, decoderPerImage: decoder };
}
