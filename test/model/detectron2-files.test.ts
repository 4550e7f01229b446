// detectron2's own files: .pth checkpoints (torch.save zip + pickle with persistent ids, read without
// executing code) and yaml configs (_BASE_ chains, command-line overrides) → our model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { convertCommand } from '../../src/cli/commands/convert.ts';
import { DensePoseError } from '../../src/errors.ts';
import { readModelConfig } from '../../src/infer/model-file.ts';
import { loadDetectron2Config, readDetectron2Yaml } from '../../src/model/detectron2-config.ts';
import { readDetectron2Checkpoint } from '../../src/model/import-detectron2.ts';
import { readDetectron2Pkl } from '../../src/runtime/checkpoint/pickle.ts';
import { readSafetensors } from '../../src/runtime/checkpoint/safetensors.ts';
import { FIXTURES, HAVE_FIXTURES } from '../../src/runtime/checkpoint/test-fixtures.ts';
import type { TorchTensor } from '../../src/runtime/checkpoint/torch.ts';
import { openTorchCheckpoint } from '../../src/runtime/checkpoint/torch.ts';

const PTH = 'test/model/testdata/densepose_tiny_subset.pth';
const PKL = `${FIXTURES}/detectron2/densepose_rcnn_R_18_tiny_random.pkl`;
const YAML = `${FIXTURES}/detectron2/config.yaml`;
const withFixtures = HAVE_FIXTURES || process.env['CI'] ? describe : describe.skip;
const tmp = mkdtempSync(join(tmpdir(), 'dp-d2files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('.pth checkpoints (made by PyTorch: test/model/testdata/make_tiny_pth.py)', () => {
  it('reads the extras: ints, a non-contiguous view, int64', () => {
    const ckpt = openTorchCheckpoint(PTH);
    try {
      const root = ckpt.root as Map<string, unknown>;
      expect(root.get('iteration')).toBe(7);
      const extra = root.get('extra') as Map<string, TorchTensor>;
      const t = ckpt.read(extra.get('transposed')!);
      expect(t.shape).toEqual([4, 3]);
      expect(Array.from(t.data as Float32Array)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      expect(Array.from(ckpt.read(extra.get('long')!).data as BigInt64Array)).toEqual([1n, -2n, 3n]);
    } finally {
      ckpt.close();
    }
  });

  it('a file that is not a checkpoint is refused by name', () => {
    const bad = join(tmp, 'bad.pth');
    writeFileSync(bad, 'PK\x03\x04 not really');
    expect(() => readDetectron2Checkpoint(bad)).toThrow(DensePoseError);
  });

  withFixtures('detectron2 fixture', () => {
    it('every tensor equals the fixture .pkl, bit for bit; optimizer state is not read into the state dict', () => {
      const pth = readDetectron2Checkpoint(PTH);
      const pkl = readDetectron2Pkl(PKL);
      expect(pth.size).toBe(19);
      for (const [name, t] of pth) {
        const ref = pkl.get(name)!;
        expect(t.shape, name).toEqual(ref.shape);
        expect(t.dtype, name).toBe(ref.dtype);
        expect(Buffer.compare(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength)), name).toBe(0);
      }
    });

    it('densepose convert takes the .pth (layout conversion)', async () => {
      const out = join(tmp, 'pth.safetensors');
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      const rc = await convertCommand(['--from', 'detectron2', PTH, '--out', out, '--json']);
      log.mockRestore();
      expect(rc).toBe(0);
      const { tensors } = readSafetensors(out);
      expect(tensors.size).toBe(19);
      expect(tensors.get('backbone.bottom_up.stem.conv1.weight')!.shape).toEqual([7, 7, 3, 64]);
      expect(tensors.get('roi_heads.densepose_predictor.index_uv_lowres.weight')!.shape).toEqual([4, 4, 25, 64]);
    });

    it("densepose convert --config detectron2's yaml: strict load, a runnable model file; overrides apply", async () => {
      const out = join(tmp, 'yaml.safetensors');
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      const rc = await convertCommand(['--from', 'detectron2', PKL, '--config', YAML, '--out', out, '--json', 'MODEL.ROI_HEADS.SCORE_THRESH_TEST', '0.25', 'TEST.DETECTIONS_PER_IMAGE=7']);
      log.mockRestore();
      expect(rc).toBe(0);
      const config = readModelConfig(out);
      expect(config.roiHeads.scoreThreshTest).toBe(0.25);
      expect(config.roiHeads.detectionsPerImage).toBe(7);
      expect(config.backbone.depth).toBe(18);
      expect(config.detectron2).toBe('config');
    });
  });
});

describe('detectron2 yaml configs', () => {
  const write = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  beforeAll(() => {
    write('Base.yaml', 'MODEL:\n  BACKBONE:\n    NAME: build_resnet_fpn_backbone\n  RESNETS:\n    DEPTH: 50\n    OUT_FEATURES: ["res2", "res3", "res4", "res5"]\n  ANCHOR_GENERATOR:\n    SIZES: [[32], [64], [128], [256], [512]]\n  ROI_HEADS:\n    IN_FEATURES: ["p2", "p3", "p4", "p5"]\n    NUM_CLASSES: 1\n  ROI_BOX_HEAD:\n    NUM_FC: 2\n    POOLER_RESOLUTION: 7\n  DENSEPOSE_ON: True\n  ROI_DENSEPOSE_HEAD:\n    NAME: "DensePoseV1ConvXHead"\n    POOLER_TYPE: "ROIAlign"\nSOLVER:\n  STEPS: (60000, 80000)\n');
  });

  it('follows _BASE_ chains (mappings merged, lists replaced), then command-line overrides', () => {
    const child = write('child.yaml', '_BASE_: "Base.yaml"\nMODEL:\n  RESNETS:\n    DEPTH: 101\n  ROI_DENSEPOSE_HEAD:\n    NAME: "DensePoseDeepLabHead"\n    UV_CONFIDENCE:\n      ENABLED: True\n      TYPE: "indep_aniso"\n    SEGM_CONFIDENCE:\n      ENABLED: True\n');
    const tree = readDetectron2Yaml(child, ['MODEL.ROI_HEADS.SCORE_THRESH_TEST', '0.3']) as { MODEL: { RESNETS: { DEPTH: number; OUT_FEATURES: string[] } } };
    expect(tree.MODEL.RESNETS).toEqual({ DEPTH: 101, OUT_FEATURES: ['res2', 'res3', 'res4', 'res5'] });
    const c = loadDetectron2Config(child, ['MODEL.ROI_HEADS.SCORE_THRESH_TEST', '0.3', 'INPUT.MIN_SIZE_TEST=640']);
    expect(c.backbone.depth).toBe(101);
    expect(c.roiHeads).toMatchObject({ numFc: 2, poolerResolution: 7, poolerType: 'ROIAlignV2', scoreThreshTest: 0.3, numClasses: 1 });
    expect(c.input.minSizeTest).toBe(640);
    expect(c.densepose).toMatchObject({ head: 'deeplab', poolerAligned: false, uvConfidence: 'indep_aniso', segmConfidence: true, decoder: true, poolerResolution: [28, 28] });
  });

  it('refuses what our model cannot build, naming the key', () => {
    const p = write('deform.yaml', '_BASE_: "Base.yaml"\nMODEL:\n  RESNETS:\n    DEFORM_ON_PER_STAGE: [False, True, True, True]\n');
    expect(() => loadDetectron2Config(p)).toThrow(/MODEL\.RESNETS\.DEFORM_ON_PER_STAGE .* not supported/);
    const cse = write('cse.yaml', '_BASE_: "Base.yaml"\nMODEL:\n  ROI_DENSEPOSE_HEAD:\n    PREDICTOR_NAME: "DensePoseEmbeddingPredictor"\n');
    expect(() => loadDetectron2Config(cse)).toThrow(/PREDICTOR_NAME = "DensePoseEmbeddingPredictor" is not supported \(chart predictors only/);
    const loop = write('loop.yaml', '_BASE_: "loop.yaml"\n');
    expect(() => loadDetectron2Config(loop)).toThrow(/_BASE_ cycle/);
    expect(() => loadDetectron2Config(write('ok.yaml', '_BASE_: "Base.yaml"\n'), ['MODEL.RESNETS.DEPTH'])).toThrow(/has no value/);
  });
});
