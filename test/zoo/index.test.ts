import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DensePoseError } from '../../src/errors.ts';
import { cacheDir } from '../../src/infer/cache-dir.ts';
import { findZooEntry, getZooEntry, looksLikeModelName, shippedZooIndex, validateZooIndex } from '../../src/zoo/index.ts';

describe('model index', () => {
  const index = shippedZooIndex();

  it('lists all 22 DensePose IUV rows of detectron2, with URLs built from name, id and md5 prefix', () => {
    expect(index.models).toHaveLength(22);
    expect(index.licence).toBe('CC BY-SA 3.0');
    for (const m of index.models) {
      expect(m.url).toBe(`https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_${m.name}/${m.modelId}/model_final_${m.md5Prefix}.pkl`);
      expect(m.detectron2Config).toBe(`densepose_rcnn_${m.name}`);
      expect(m.config).toBe(`configs/densepose_rcnn_${m.name}.json`);
      expect(m.md5Prefix).toMatch(/^[0-9a-f]{6}$/);
    }
    // spot checks against DENSEPOSE_IUV.md
    const r50 = getZooEntry(index, 'R_50_FPN_s1x');
    expect([r50.modelId, r50.md5Prefix, r50.ap]).toEqual([165712039, '162be9', { box: 61.2, segm: 67.2, gps: 63.7, gpsm: 65.3 }]);
    const wc2m = getZooEntry(index, 'densepose_rcnn_R_101_FPN_DL_WC2M_s1x');
    expect([wc2m.modelId, wc2m.md5Prefix]).toEqual([216245790, 'de6e7a']);
  });

  it('finds both spellings of a name and refuses unknown names listing the valid ones', () => {
    expect(findZooEntry(index, 'densepose_rcnn_R_50_FPN_DL_s1x')?.name).toBe('R_50_FPN_DL_s1x');
    expect(() => getZooEntry(index, 'R_51_FPN_s1x')).toThrow(/Unknown model "R_51_FPN_s1x". Expected a model file or one of: R_50_FPN_s1x_legacy, /);
    expect(looksLikeModelName('R_50_FPN_s1x')).toBe(true);
    expect(looksLikeModelName('models/default.safetensors')).toBe(false);
    expect(looksLikeModelName('r50.safetensors')).toBe(false);
  });

  it('validation names the row and field', () => {
    const json = JSON.parse(readFileSync('models/zoo.json', 'utf8'));
    json.models[3].md5Prefix = 'XYZ';
    expect(() => validateZooIndex(json, 'my.json')).toThrow(/my.json: models\[3\]: "md5Prefix" must be a string matching/);
    json.models[3].md5Prefix = 'abcdef';
    json.models[4].name = json.models[3].name;
    expect(() => validateZooIndex(json, 'my.json')).toThrow(DensePoseError);
    expect(() => validateZooIndex({ ...json, version: 2 }, 'my.json')).toThrow(/"version" must be 1/);
  });

  it('every row names a config file that exists', () => {
    for (const m of index.models) expect(existsSync(m.config), m.config).toBe(true);
  });
});

describe('cache root', () => {
  it('DENSEPOSE_CACHE, else XDG_CACHE_HOME/densepose-ts, else ~/.cache/densepose-ts', () => {
    expect(cacheDir({ DENSEPOSE_CACHE: '/a/b', XDG_CACHE_HOME: '/x' })).toBe('/a/b');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/densepose-ts');
    expect(cacheDir({ HOME: '/h' })).toMatch(/\.cache\/densepose-ts$/);
  });
});
