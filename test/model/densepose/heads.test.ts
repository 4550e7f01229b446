import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DensePoseBranch } from '../../../src/model/densepose/branch.ts';
import { type DensePoseHeadConfigInput, densePoseConfigFromJson, predictorOutputSize, resolveDensePoseConfig } from '../../../src/model/densepose/config.ts';
import { Aspp, DensePoseAsppHead } from '../../../src/model/densepose/heads.ts';
import { ChartPredictor } from '../../../src/model/densepose/predictor.ts';
import { seedInit } from '../../../src/runtime/layers.ts';
import { type F64, f64, refConv2d, relError } from '../../../src/runtime/ops/gradcheck.ts';
import { TfExecutor } from '../../../src/runtime/tf-executor.ts';

const ex = new TfExecutor();
beforeAll(async () => {
  await tf.setBackend('cpu');
});

function setParam(m: { stateDict(): Map<string, tf.Tensor>; loadStateDict: DensePoseBranch['loadStateDict'] }, name: string, value: tf.Tensor): void {
  m.loadStateDict(new Map([[name, value]]), { strict: false });
}

describe('Scale Transfer Layer', () => {
  it('equals a hand-written depth-to-space (DCR) on a 1×2×2×8 tensor', () => {
    // x[0,h,w,ch] = 100h + 10w + ch; r = 2, C = 2: out[h·2+i, w·2+j, c] = x[h, w, (i·2+j)·2 + c].
    const x = tf.tensor4d(Array.from({ length: 32 }, (_, k) => 100 * Math.floor(k / 16) + 10 * (Math.floor(k / 8) % 2) + (k % 8)), [1, 2, 2, 8]);
    const y = ex.depthToSpace(x, 2, 'DCR');
    expect(y.shape).toEqual([1, 4, 4, 2]);
    expect(Array.from(y.dataSync())).toEqual([
      0, 1, 2, 3, 10, 11, 12, 13,
      4, 5, 6, 7, 14, 15, 16, 17,
      100, 101, 102, 103, 110, 111, 112, 113,
      104, 105, 106, 107, 114, 115, 116, 117,
    ]);
  });

  it('the STL predictor is conv → depth-to-space, output r× the RoI', () => {
    seedInit(3);
    const pred = new ChartPredictor({ inChannels: 4, upsample: 'stl', stlFactor: 2, stlKernel: 3, upScale: 1, numPatches: 2 });
    const x = tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 7);
    const out = pred.forward(ex, x);
    expect(out.coarseSegm.shape).toEqual([2, 6, 10, 2]);
    expect(out.u.shape).toEqual([2, 6, 10, 3]);
    const w = pred.stateDict().get('u.weight')!;
    const b = pred.stateDict().get('u.bias')!;
    const conv = tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), b);
    const c = conv.arraySync() as number[][][][];
    const u = out.u.arraySync() as number[][][][];
    let err = 0;
    for (let n = 0; n < 2; n++)
      for (let h = 0; h < 6; h++)
        for (let ww = 0; ww < 10; ww++)
          for (let ch = 0; ch < 3; ch++) {
            const src = c[n]![h >> 1]![ww >> 1]![((h & 1) * 2 + (ww & 1)) * 3 + ch]!;
            err = Math.max(err, Math.abs(src - u[n]![h]![ww]![ch]!));
          }
    expect(err).toBeLessThan(1e-6);
  });
});

describe('ASPP', () => {
  it('keeps the spatial size and maps to outChannels; names follow torchvision', () => {
    const aspp = new Aspp({ inChannels: 8, outChannels: 32, rates: [6, 12, 56] });
    const y = aspp.forward(ex, tf.randomNormal([2, 11, 7, 8]));
    expect(y.shape).toEqual([2, 11, 7, 32]);
    const names = [...aspp.stateDict().keys()];
    expect(names).toEqual([
      'convs.0.0.weight', 'convs.0.1.weight', 'convs.0.1.bias',
      'convs.1.0.weight', 'convs.1.1.weight', 'convs.1.1.bias',
      'convs.2.0.weight', 'convs.2.1.weight', 'convs.2.1.bias',
      'convs.3.0.weight', 'convs.3.1.weight', 'convs.3.1.bias',
      'convs.4.1.weight', 'convs.4.2.weight', 'convs.4.2.bias',
      'project.0.weight',
    ]);
  });

  it('a dilated branch responds to an impulse exactly at offsets {−r, 0, r}²', () => {
    for (const rate of [1, 2, 3]) {
      const aspp = new Aspp({ inChannels: 1, outChannels: 1, rates: [rate], imagePooling: false, norm: '' });
      setParam(aspp, 'convs.0.0.weight', tf.zeros([1, 1, 1, 1]));
      setParam(aspp, 'convs.1.0.weight', tf.ones([3, 3, 1, 1]));
      setParam(aspp, 'project.0.weight', tf.tensor4d([0, 1], [1, 1, 2, 1]));
      const x = tf.buffer([1, 13, 13, 1]);
      x.set(1, 0, 6, 6, 0);
      const y = aspp.forward(ex, x.toTensor()).dataSync();
      const hits: string[] = [];
      y.forEach((v, i) => v !== 0 && hits.push(`${Math.floor(i / 13) - 6},${(i % 13) - 6}`));
      const want = [-rate, 0, rate].flatMap((dy) => [-rate, 0, rate].map((dx) => `${dy},${dx}`));
      expect(hits.sort()).toEqual(want.sort());
    }
  });

  it('the image-pooling branch adds the same value at every position', () => {
    const aspp = new Aspp({ inChannels: 1, outChannels: 1, rates: [1], imagePooling: true, norm: '' });
    setParam(aspp, 'convs.0.0.weight', tf.zeros([1, 1, 1, 1]));
    setParam(aspp, 'convs.1.0.weight', tf.zeros([3, 3, 1, 1]));
    setParam(aspp, 'convs.2.1.weight', tf.ones([1, 1, 1, 1]));
    setParam(aspp, 'project.0.weight', tf.tensor4d([0, 0, 1], [1, 1, 3, 1]));
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    expect(Array.from(aspp.forward(ex, x).dataSync())).toEqual(new Array(6).fill(3.5));
  });
});

describe('config', () => {
  it('presets and output sizes', () => {
    expect(predictorOutputSize(resolveDensePoseConfig())).toEqual([112, 112]);
    const legacy = resolveDensePoseConfig({ preset: 'legacy' });
    expect(predictorOutputSize(legacy)).toEqual([56, 56]);
    expect(legacy.numCoarseSegmChannels).toBe(15);
    expect(legacy.lossWeights).toEqual({ segm: 2, part: 0.3, points: 0.1 });
  });

  it('rejects bad values naming the option and the valid ones', () => {
    expect(() => resolveDensePoseConfig({ head: 'unet' as never })).toThrow(/densepose.head "unet". Expected one of: v1convx, deeplab, aspp/);
    expect(() => densePoseConfigFromJson({ densepose: { upsampel: 'stl' } })).toThrow(/upsampel/);
    expect(() => resolveDensePoseConfig({ aspp: { rates: [] } })).toThrow(/aspp.rates/);
  });

  it('every configs/densepose file loads and builds; the ablation chain changes one thing per step', () => {
    const dir = new URL('../../../configs/densepose/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(['r18_fpn_rcnn_head.json', 'r18_fpn_rcnn_head_aspp.json', 'r18_fpn_rcnn_head_aspp_88x64.json', 'r18_fpn_rcnn_head_aspp_88x64_stl.json']);
    const sizes: Record<string, [number, number]> = {};
    for (const f of files) {
      const cfg = densePoseConfigFromJson(JSON.parse(readFileSync(new URL(f, dir), 'utf8')), f);
      sizes[f] = predictorOutputSize(cfg);
      const small = new DensePoseBranch({ ...cfg, inChannels: 32, decoderConvDims: 32, decoderNumClasses: 32, convHeadDim: 32, numStackedConvs: 1 });
      const [h, w] = cfg.poolerResolution;
      const out = small.forwardHead(ex, tf.zeros([1, h, w, 32]));
      expect(out.fineSegm.shape.slice(1, 3), f).toEqual(sizes[f]);
      small.dispose();
    }
    expect(sizes['r18_fpn_rcnn_head_aspp_88x64_stl.json']).toEqual([176, 128]);
  });
});

/**
 * Central differences at three entries of each probed parameter against tf.variableGrads. The differenced
 * loss is summed on the host in float64, so float32 summation noise does not swamp the small differences.
 */
function checkGradients(params: Map<string, { variable: tf.Variable }>, probes: string[], outputs: () => tf.Tensor[], eps: number): void {
  // Zero biases put every all-zero-input pixel exactly on a ReLU kink, where differences and gradients
  // legitimately disagree; random biases move them off it.
  let seed = 300;
  for (const [name, p] of params) if (name.endsWith('.bias')) p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.1, 'float32', seed++));
  const weights = tf.tidy(() => outputs().map((t, i) => tf.randomNormal(t.shape, 0, 1, 'float32', 200 + i)));
  const hostW = weights.map((w) => w.dataSync());
  const loss = () => tf.tidy(() => tf.addN(outputs().map((t, i) => tf.sum(tf.mul(t, weights[i]!)))) as tf.Scalar);
  const hostLoss = () => {
    const outs = tf.tidy(() => outputs());
    let sum = 0;
    outs.forEach((t, i) => t.dataSync().forEach((x, j) => (sum += x * hostW[i]![j]!)));
    tf.dispose(outs);
    return sum;
  };
  const { grads } = tf.variableGrads(loss);
  for (const probe of probes) {
    const v = params.get(probe)!.variable;
    const g = grads[v.name]!.dataSync();
    const base = v.dataSync().slice();
    for (const idx of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (d: number) => {
        const p = base.slice();
        p[idx] = p[idx]! + d;
        v.assign(tf.tensor(p, v.shape));
        return hostLoss();
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(base, v.shape));
      expect(Math.abs(fd - g[idx]!), `${probe}[${idx}] fd ${fd} vs ${g[idx]}`).toBeLessThan(1e-2 * Math.max(1, Math.abs(fd)));
    }
  }
  tf.dispose([...Object.values(grads), ...weights]);
}

describe('gradients by finite differences', () => {
  // Whole branch: decoder → RoIAlign → head → predictor. GN-free on purpose: GN re-centres every channel
  // to zero mean and divides by small group deviations, so its ReLU sits next to many activations and a
  // float32-sized step (≥ 1e-3) crosses kinks; the float64 differences disagree just as much at those
  // steps. The GN head is checked against a float64 reference instead (next describe).
  const cases: Record<string, DensePoseHeadConfigInput> = {
    'decoder + ASPP head (dilated, pooling) + STL': { head: 'aspp', upsample: 'stl', upScale: 1, aspp: { rates: [1, 2], imagePooling: true, norm: '' } },
    'decoder + V1ConvX + deconv + bilinear': { head: 'v1convx', upsample: 'deconv', upScale: 2 },
  };
  for (const [name, extra] of Object.entries(cases)) {
    it(`whole branch: ${name}`, () => {
      seedInit(11);
      const branch = new DensePoseBranch({ inChannels: 3, decoderConvDims: 4, decoderNumClasses: 4, convHeadDim: 8, numStackedConvs: 1, poolerResolution: [4, 3], numPatches: 2, ...extra });
      const fpn = [8, 4, 2, 1].map((s, i) => tf.randomNormal([1, s, s, 3], 0, 1, 'float32', 100 + i) as tf.Tensor4D);
      const boxes = Float32Array.from([2, 3, 27, 30, 0, 0, 16, 9]);
      const outputs = () => Object.values(branch.forward(ex, fpn, boxes));
      const aspp = name.includes('ASPP');
      checkGradients(new Map(branch.namedParameters()), ['decoder.p3.0.weight', 'decoder.predictor.bias', 'densepose_head.body_conv_fcn1.weight', 'densepose_head.body_conv_fcn1.bias', aspp ? 'densepose_head.aspp.convs.2.0.weight' : 'densepose_predictor.u_lowres.weight', aspp ? 'densepose_head.aspp.convs.3.1.weight' : 'densepose_predictor.ann_index_lowres.bias'], outputs, 2e-3);
      branch.dispose();
    });
  }
});

/**
 * Float64 reference of `DensePoseAsppHead` (numConvs 1): body conv3×3 + ReLU, then ASPP with GN(32):
 * 1×1 and dilated 3×3 branches, image pooling (mean → 1×1 → GN on the 1×1 map → ReLU → broadcast),
 * concat, 1×1 + ReLU. Plain loops from the PyTorch definitions; `p` holds HWIO weights by state-dict name.
 */
function refAsppHead(x: F64, p: Map<string, F64>, rates: readonly number[]): F64 {
  const P = (n: string) => p.get(n)!;
  const relu = (y: F64) => (y.data.forEach((v, i) => (y.data[i] = Math.max(0, v))), y);
  const conv = (t: F64, w: string, pad: number, dil: number) => refConv2d(t, P(w), { stride: 1, padding: pad, dilation: dil, groups: 1 });
  const gn = (y: F64, prefix: string): F64 => {
    const [n, h, w, c] = y.shape as [number, number, number, number];
    const cg = c / 32;
    const gamma = P(`${prefix}.weight`).data;
    const beta = P(`${prefix}.bias`).data;
    const out = f64(y.shape);
    for (let k = 0; k < n; k++)
      for (let g = 0; g < 32; g++) {
        const idx: number[] = [];
        for (let q = 0; q < h * w; q++) for (let j = 0; j < cg; j++) idx.push((k * h * w + q) * c + g * cg + j);
        const mu = idx.reduce((a, i) => a + y.data[i]!, 0) / idx.length;
        const v = idx.reduce((a, i) => a + (y.data[i]! - mu) ** 2, 0) / idx.length;
        for (const i of idx) out.data[i] = ((y.data[i]! - mu) / Math.sqrt(v + 1e-5)) * gamma[i % c]! + beta[i % c]!;
      }
    return out;
  };
  const body = conv(x, 'body_conv_fcn1.weight', 1, 1);
  const b1 = P('body_conv_fcn1.bias').data;
  body.data.forEach((v, i) => (body.data[i] = v + b1[i % b1.length]!));
  const y = relu(body);
  const [n, h, w, c] = y.shape as [number, number, number, number];
  const parts = [relu(gn(conv(y, 'aspp.convs.0.0.weight', 0, 1), 'aspp.convs.0.1'))];
  rates.forEach((r, i) => parts.push(relu(gn(conv(y, `aspp.convs.${i + 1}.0.weight`, r, r), `aspp.convs.${i + 1}.1`))));
  const mean = f64([n, 1, 1, c]);
  for (let k = 0; k < n; k++) for (let q = 0; q < h * w; q++) for (let ch = 0; ch < c; ch++) mean.data[k * c + ch]! += y.data[(k * h * w + q) * c + ch]! / (h * w);
  const pi = rates.length + 1;
  const pooled = relu(gn(conv(mean, `aspp.convs.${pi}.1.weight`, 0, 1), `aspp.convs.${pi}.2`));
  const oc = pooled.shape[3]!;
  parts.push(f64([n, h, w, oc], Array.from({ length: n * h * w * oc }, (_, i) => pooled.data[Math.floor(i / (h * w * oc)) * oc + (i % oc)]!)));
  const total = parts.reduce((a, t) => a + t.shape[3]!, 0);
  const cat = f64([n, h, w, total]);
  for (let px = 0; px < n * h * w; px++) {
    let off = 0;
    for (const t of parts) {
      const tc = t.shape[3]!;
      for (let j = 0; j < tc; j++) cat.data[px * total + off + j] = t.data[px * tc + j]!;
      off += tc;
    }
  }
  return relu(conv(cat, 'aspp.project.0.weight', 0, 1));
}

describe('gradients of the GroupNorm ASPP head against a float64 reference', () => {
  // Finite differences of a float64 reference at a 1e-6 step stay between ReLU kinks, so they measure the
  // true gradient; our float32 analytic gradient (GN = tf.moments over a 5-D reshape, Mean/Sqrt/RealDiv/
  // Reshape grads, dilated-conv grads, resizeLike of the 1×1 pooled map) must match them to float32 precision.
  // 64 channels → groups of 2, so the image-pooling GN on the 1×1 map is not degenerate (C/G = 1 would make
  // its output exactly β and its conv's gradient exactly 0, as in PyTorch).
  it('forward and gradients (input, body conv, dilated branch, GN affine, pooling conv, project) match', () => {
    seedInit(5);
    const rates = [1, 2];
    const head = new DensePoseAsppHead({ inChannels: 3, hiddenDim: 64, numConvs: 1, aspp: { rates, imagePooling: true, norm: 'GN' } });
    const params = new Map(head.namedParameters());
    let seed = 40;
    for (const [name, p] of params) {
      if (name.endsWith('.bias')) p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.1, 'float32', seed++));
      else if (/convs\.\d\.1\.weight$|convs\.3\.2\.weight$/.test(name)) p.variable.assign(tf.randomUniform(p.variable.shape, 0.5, 1.5, 'float32', seed++));
    }
    const x = tf.variable(tf.randomNormal([2, 4, 3, 3], 0, 1, 'float32', 17));
    const out = tf.tidy(() => head.forward(ex, x));
    const r = tf.randomNormal(out.shape, 0, 1, 'float32', 18);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(head.forward(ex, x), r)) as tf.Scalar, [x, ...[...params.values()].map((p) => p.variable)]);

    const ref = new Map([...params].map(([n, p]) => [n, f64(p.variable.shape, p.variable.dataSync())]));
    const x64 = f64(x.shape, x.dataSync());
    expect(relError(out.dataSync(), refAsppHead(x64, ref, rates).data)).toBeLessThan(1e-5);

    const rr = r.dataSync();
    const loss = () => refAsppHead(x64, ref, rates).data.reduce((a, v, i) => a + v * rr[i]!, 0);
    const probes: [string, F64, tf.Variable][] = [['input', x64, x]];
    for (const n of ['body_conv_fcn1.weight', 'body_conv_fcn1.bias', 'aspp.convs.2.0.weight', 'aspp.convs.2.1.weight', 'aspp.convs.2.1.bias', 'aspp.convs.3.1.weight', 'aspp.convs.3.2.weight', 'aspp.project.0.weight'])
      probes.push([n, ref.get(n)!, params.get(n)!.variable]);
    for (const [name, t, v] of probes) {
      const g = grads[v.name]!.dataSync();
      const at = Array.from({ length: 12 }, (_, k) => Math.floor((k * (t.data.length - 1)) / 11));
      const fd = at.map((i) => {
        const keep = t.data[i]!;
        t.data[i] = keep + 1e-6;
        const lp = loss();
        t.data[i] = keep - 1e-6;
        const lm = loss();
        t.data[i] = keep;
        return (lp - lm) / 2e-6;
      });
      const ours = at.map((i) => g[i]!);
      expect(fd.some((d) => Math.abs(d) > 1e-3), `${name}: some probed gradient is non-zero`).toBe(true);
      expect(relError(ours, fd), `${name}: ours ${ours.join(',')} vs float64 ${fd.join(',')}`).toBeLessThan(1e-4);
    }
    tf.dispose([x, out, r, ...Object.values(grads)]);
  });
});
