import * as tf from '@tensorflow/tfjs-core';
import { convertDetectron2StateDict, readDetectron2Pkl } from '../../../src/runtime/checkpoint/index.ts';
import type { NdArray } from '../../../src/runtime/checkpoint/ndarray.ts';
import { DensePoseBranch } from '../../../src/model/densepose/branch.ts';
import { FIXTURES, nchwToNhwc, npy } from '../helpers.ts';

export const FIXTURE_DIR = `${FIXTURES}/detectron2`;

/** The detectron2 parity set's DensePose branch (R18 tiny: 64-channel FPN, decoder, head and predictor). */
export const D2_TINY_CONFIG = { inChannels: 64, decoderConvDims: 64, decoderNumClasses: 64, convHeadDim: 64 } as const;

let cached: Map<string, NdArray> | undefined;

/** `roi_heads.*` entries of the fixture checkpoint, our layout, prefix stripped. */
export function d2RoiHeadsState(): Map<string, NdArray> {
  if (!cached) {
    const sd = readDetectron2Pkl(`${FIXTURE_DIR}/densepose_rcnn_R_18_tiny_random.pkl`);
    const keep = new Map([...sd].filter(([k]) => /^roi_heads\.(decoder|densepose_head|densepose_predictor)\./.test(k)));
    cached = new Map([...convertDetectron2StateDict(keep).tensors].map(([k, v]) => [k.slice('roi_heads.'.length), v]));
  }
  return cached;
}

export function loadD2Branch(): DensePoseBranch {
  const branch = new DensePoseBranch(D2_TINY_CONFIG);
  const state = new Map([...d2RoiHeadsState()].map(([k, v]) => [k, { shape: v.shape, data: v.data as Float32Array }]));
  branch.loadStateDict(state, { source: 'densepose_rcnn_R_18_tiny_random.pkl' });
  return branch;
}

/** A fixture tensor (NCHW) as an NHWC tfjs tensor. */
export function nhwcTensor(name: string): tf.Tensor4D {
  const a = npy(`detectron2/tensors/${name}.npy`);
  const [n, c, h, w] = a.shape as [number, number, number, number];
  return tf.tensor4d(nchwToNhwc(a.data, a.shape), [n, h, w, c]);
}
