import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromConfig, type ModelConfig } from '../../src/model/config.ts';
import { buildModel } from '../../src/model/detector.ts';
import { densePoseConfigFromJson } from '../../src/model/densepose/config.ts';
import { loadDetectron2 } from '../../src/model/import-detectron2.ts';
import { preprocessImage } from '../../src/model/preprocess.ts';
import { ResNet } from '../../src/model/backbone/resnet.ts';
import { TfExecutor } from '../../src/runtime/tf-executor.ts';
import { DensePoseError } from '../../src/errors.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS } from './helpers.ts';

const CONFIG_DIR = new URL('../../configs/', import.meta.url);
const configFiles = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.json'));
const load = (file: string) => fromConfig(JSON.parse(readFileSync(new URL(file, CONFIG_DIR), 'utf8')), file);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A narrow copy of a config: same structure and names, tiny widths (cheap to build). */
function narrow(c: ModelConfig): ModelConfig {
  const deep = c.backbone.stem === 'deep';
  const basic = (c.backbone.depth ?? 50) < 50;
  return {
    ...c,
    backbone: { ...c.backbone, widthPerGroup: (c.backbone.numGroups ?? 1) > 1 ? 1 : 8, stemOutChannels: deep ? 8 : 4, res2OutChannels: basic ? 64 : 16, ...(c.backbone.seReduction ? { seReduction: 4 } : {}) },
    fpn: { outChannels: 8 },
    roiHeads: { ...c.roiHeads, fcDim: 8 },
  };
}

describe('configs', () => {
  it('finds the zoo mirrors and small variants', () => {
    for (const name of ['densepose_rcnn_R_50_FPN_s1x', 'densepose_rcnn_R_101_FPN_s1x', 'densepose_rcnn_R_18_FPN_s1x', 'densepose_rcnn_SENet_154_FPN', 'densepose_rcnn_SE_X_101_32x4d_FPN']) {
      expect(configFiles).toContain(`${name}.json`);
    }
  });
  for (const file of configFiles) {
    it(`${file} loads, its densepose section validates, and a narrow copy builds with detectron2 names`, () => {
      const c = load(file);
      densePoseConfigFromJson(c, file);
      const model = buildModel(narrow(c));
      const names = model.namedParameters().map(([n]) => n);
      expect(names).toContain('backbone.fpn_lateral2.weight');
      expect(names).toContain('backbone.fpn_output5.bias');
      expect(names).toContain('proposal_generator.rpn_head.anchor_deltas.weight');
      expect(names).toContain('roi_heads.box_predictor.cls_score.weight');
      // FrozenBN keeps running statistics; GroupNorm has only its affine weight and bias.
      const stemNorm = (c.backbone.norm ?? 'FrozenBN') === 'FrozenBN' ? 'running_var' : 'weight';
      expect(names).toContain(c.backbone.stem === 'deep' ? 'backbone.bottom_up.stem.conv3.weight' : `backbone.bottom_up.stem.conv1.norm.${stemNorm}`);
      if ((c.backbone.depth ?? 50) >= 50) {
        expect(names).toContain('backbone.bottom_up.res2.0.shortcut.weight');
        expect(names).toContain('backbone.bottom_up.res5.2.conv3.norm.weight');
      }
      if (c.backbone.seReduction) expect(names).toContain('backbone.bottom_up.res3.1.se.fc2.weight');
      model.dispose();
    });
  }
  it('rejects unknown values listing the valid ones', () => {
    const c = JSON.parse(readFileSync(new URL('densepose_rcnn_R_50_FPN_s1x.json', CONFIG_DIR), 'utf8'));
    expect(() => fromConfig({ ...c, backbone: { depth: 19 } })).toThrow(/Unknown backbone depth "19". Expected one of: 18, 34, 50, 101, 152/);
    expect(() => fromConfig({ ...c, backbone: { norm: 'BN' } })).toThrow(/Expected one of: FrozenBN, GN/);
    expect(() => fromConfig({ ...c, rpn: { nmsThres: 0.7 } })).toThrow(/Unknown option "rpn.nmsThres". Expected one of: .*nmsThresh/);
    expect(() => fromConfig({ ...c, roiHeads: { poolerType: 'ROIPool' } })).toThrow(/ROIAlign, ROIAlignV2/);
  });
});

describe('backbone structure', () => {
  it('R50 has detectron2 shapes: bottleneck 64→256, stride in 1×1; ResNeXt groups; freeze-at', () => {
    const r50 = new ResNet({ depth: 50 });
    const p = new Map(r50.namedParameters());
    expect(p.get('res2.0.conv1.weight')!.shape).toEqual([1, 1, 64, 64]);
    expect(p.get('res2.0.conv3.weight')!.shape).toEqual([1, 1, 64, 256]);
    expect(p.get('res5.0.shortcut.weight')!.shape).toEqual([1, 1, 1024, 2048]);
    expect(r50.parameterCount()).toBeGreaterThan(23.4e6);
    // freezeAt 2 = stem + res2 frozen; res3 trainable convs (FrozenBN buffers never train)
    expect(p.get('stem.conv1.weight')!.trainable).toBe(false);
    expect(p.get('res2.2.conv3.weight')!.trainable).toBe(false);
    expect(p.get('res3.0.conv1.weight')!.trainable).toBe(true);
    r50.dispose();
    const x = new ResNet({ depth: 50, numGroups: 32, widthPerGroup: 4, strideInOneByOne: false, freezeAt: 0 });
    const q = new Map(x.namedParameters());
    expect(q.get('res2.0.conv2.weight')!.shape).toEqual([3, 3, 4, 128]);
    expect(q.get('stem.conv1.weight')!.trainable).toBe(true);
    const out = x.forward(new TfExecutor(), tf.zeros([1, 64, 64, 3]));
    expect(out.res5.shape).toEqual([1, 2, 2, 2048]);
    tf.dispose(Object.values(out));
    x.dispose();
  });
});

describe('detector entry points', () => {
  const tiny = (): ModelConfig => narrow(load('densepose_rcnn_R_18_tiny_fixture.json'));
  it('detect leaks no tensors beyond the returned features', () => {
    const model = buildModel(tiny());
    const x = tf.randomNormal([1, 64, 96, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const out = model.detect(x, [60, 90]);
    const featureCount = Object.keys(out.features).length;
    tf.dispose(Object.values(out.features));
    expect(tf.memory().numTensors).toBe(before);
    expect(featureCount).toBe(9);
    expect(out.proposals.boxes.length / 4).toBeLessThanOrEqual(1000);
    for (const v of out.detections.boxes) expect(v).toBeGreaterThanOrEqual(0);
    x.dispose();
    model.dispose();
  });
  it('image side 0 or 20000 fails with a clear error before allocation', () => {
    const model = buildModel(tiny());
    const before = tf.memory().numTensors;
    expect(() => preprocessImage(new Uint8Array(3), 20000, 640)).toThrow(/height must be an integer in 1..16384 pixels, got 20000/);
    expect(() => preprocessImage(new Uint8Array(0), 480, 0)).toThrow(DensePoseError);
    const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(() => model.detect(x, [0, 32])).toThrow(/detector input height/);
    expect(() => model.detect(x, [20000, 32])).toThrow(/1..16384/);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
  it.skipIf(SKIP_FIXTURE_TESTS)('a checkpoint of another architecture fails listing the first mismatching names and shapes', () => {
    const c = load('densepose_rcnn_R_18_tiny_fixture.json');
    const r50 = buildModel({ ...c, backbone: { depth: 50, res2OutChannels: 64, widthPerGroup: 16 } });
    let err: DensePoseError | undefined;
    try {
      loadDetectron2(r50, `${FIXTURES}/detectron2/densepose_rcnn_R_18_tiny_random.pkl`, { skipAbsentHeads: true });
    } catch (e) {
      err = e as DensePoseError;
    }
    expect(err).toBeInstanceOf(DensePoseError);
    expect(err!.code).toBe('SHAPE_MISMATCH');
    expect(err!.message).toMatch(/densepose_rcnn_R_18_tiny_random\.pkl/);
    expect(err!.message).toMatch(/backbone\.bottom_up\.res2\.0\.conv1\.weight: got \[3,3,64,64\], expected \[1,1,64,16\]/);
    expect(err!.message).toMatch(/missing \(\d+\): backbone\.bottom_up\.res2\.0\.conv3\.weight/);
    r50.dispose();
    // and without skipAbsentHeads the bare detector refuses the DensePose entries
    const r18 = buildModel(c);
    expect(() => loadDetectron2(r18, `${FIXTURES}/detectron2/densepose_rcnn_R_18_tiny_random.pkl`)).toThrow(/unexpected \(\d+\): roi_heads\.decoder/);
    r18.dispose();
  });
});
