import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCocoJson } from '../../src/data/coco.ts';
import { loadSmplBodyModel } from '../../src/eval/body-model.ts';
import { evaluateDensePose } from '../../src/eval/densepose-eval.ts';
import { loadDensePoseResults } from '../../src/eval/densepose-results.ts';

const DIR = '/work/shared/fixtures/densepose_eval';
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as Record<'gps' | 'gpsm' | 'iou', Record<string, number>>;

describe('DensePose evaluation against detectron2 DensePoseCocoEval', () => {
  it('GPS, GPSm and IOU: 10 stats each to 1e-4', async () => {
    const gt = loadCocoJson(`${DIR}/gt.json`);
    const body = loadSmplBodyModel(DIR);
    const dets = await loadDensePoseResults(`${DIR}/results.json`, gt);
    const r = evaluateDensePose(gt, dets, body);
    for (const mode of ['gps', 'gpsm', 'iou'] as const) {
      for (const [k, v] of Object.entries(expected[mode])) {
        expect(Math.abs(r[mode]!.named[k as 'AP'] - v), `${mode} ${k}: ${r[mode]!.named[k as 'AP']} vs ${v}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });
});
