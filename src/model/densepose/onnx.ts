import { exportOnnx } from '../../runtime/onnx/export.ts';
import type { DensePoseBranch } from './branch.ts';

/** The branch's ONNX stages; RoIAlign runs in TS between them. */
export interface DensePoseOnnx {
  /** `p2..p5` NHWC `[1,H/s,W/s,C]` (dynamic H, W) → `decoder_out` `[1,H/4,W/4,C']`; null without a decoder. */
  decoder: Uint8Array | null;
  /** `pooled` `[K,h,w,C]` (K dynamic) → `coarse_segm`, `fine_segm`, `u`, `v` NHWC `[K,Hout,Wout,·]`. */
  head: Uint8Array;
}

export const DENSEPOSE_ONNX_OUTPUTS = ['coarse_segm', 'fine_segm', 'u', 'v'] as const;

/** Export the decoder and the head + predictor of `branch` (weights included). */
export function exportDensePoseOnnx(branch: DensePoseBranch): DensePoseOnnx {
  const c = branch.config;
  const decoder = branch.decoder;
  const names = c.featureStrides.map((s) => `p${Math.round(Math.log2(s))}`);
  const decoderBytes = decoder
    ? exportOnnx(branch, (ex, inputs) => decoder.forward(ex, inputs), {
        inputs: names.map((name) => ({ name, shape: [1, -1, -1, c.inChannels] })),
        outputNames: ['decoder_out'],
        docString: 'DensePose decoder (P2..P5 → stride 4)',
      })
    : null;
  const [h, w] = c.poolerResolution;
  const inC = decoder ? c.decoderNumClasses : c.inChannels;
  const head = exportOnnx(
    branch,
    (ex, [x]) => {
      const o = branch.forwardHead(ex, x!);
      return [o.coarseSegm, o.fineSegm, o.u, o.v];
    },
    { inputs: [{ name: 'pooled', shape: [-1, h, w, inC] }], outputNames: [...DENSEPOSE_ONNX_OUTPUTS], docString: `DensePose head (${c.head}, ${c.upsample}) + chart predictor` },
  );
  return { decoder: decoderBytes, head };
}
