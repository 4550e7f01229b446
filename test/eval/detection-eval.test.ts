import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCocoJson, readJsonFile, validateCocoResults } from '../../src/data/coco.ts';
import { evaluateDetections } from '../../src/eval/detection-eval.ts';

import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../src/runtime/checkpoint/test-fixtures.ts';

const DIR = `${FIXTURES}/coco`;
const expected = (SKIP_FIXTURE_TESTS ? {} : JSON.parse(readFileSync(`${DIR}/eval_expected.json`, 'utf8'))) as Record<'bbox' | 'segm', { stats: number[]; precision_shape: number[] }>;

describe.skipIf(SKIP_FIXTURE_TESTS)('COCOeval bbox/segm against pycocotools', () => {
  // read at collection time; a skipped suite is still collected
  const gt = SKIP_FIXTURE_TESTS ? { images: [], annotations: [], categories: [] } : loadCocoJson(`${DIR}/eval_gt.json`);
  const results = SKIP_FIXTURE_TESTS ? [] : validateCocoResults(readJsonFile(`${DIR}/eval_dt.json`), gt, 'eval_dt.json');
  for (const iouType of ['bbox', 'segm'] as const) {
    it(`${iouType}: 12 stats to 1e-4`, () => {
      const r = evaluateDetections(gt, results, iouType);
      const s = r.accumulated.shape;
      expect([s.T, s.R, s.K, s.A, s.M]).toEqual(expected[iouType].precision_shape);
      r.stats.forEach((v, i) => expect(Math.abs(v - expected[iouType].stats[i]!), `stat ${i}`).toBeLessThanOrEqual(1e-4));
    });
  }

  it('ground truth scored against itself is 1 (bbox and segm)', () => {
    const self = gt.annotations.filter((a) => !a.iscrowd).map((a) => ({ image_id: a.image_id, category_id: a.category_id, bbox: a.bbox, score: 1, segmentation: undefined }));
    const res = validateCocoResults(self, gt, 'self');
    for (const t of ['bbox'] as const) {
      const r = evaluateDetections(gt, res, t);
      expect(r.named.AP).toBeCloseTo(1, 10);
      expect(r.named.AR100).toBeCloseTo(1, 10);
    }
  });
});
