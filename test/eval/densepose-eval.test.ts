import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCocoJson, readJsonFile, validateCocoResults } from '../../src/data/coco.ts';
import type { CocoAnnotation, CocoDataset } from '../../src/data/coco.ts';
import { encodeMask } from '../../src/data/mask.ts';
import { loadSmplBodyModel } from '../../src/eval/body-model.ts';
import { evaluateDensePose } from '../../src/eval/densepose-eval.ts';
import { decodeDensePoseResults, encodeIuv, loadDensePoseResults } from '../../src/eval/densepose-results.ts';

import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../src/runtime/checkpoint/test-fixtures.ts';

const DIR = `${FIXTURES}/densepose_eval`;
const expected = (SKIP_FIXTURE_TESTS ? {} : JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8'))) as Record<'gps' | 'gpsm' | 'iou', Record<string, number>>;

describe.skipIf(SKIP_FIXTURE_TESTS)('DensePose evaluation against detectron2 DensePoseCocoEval', () => {
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

describe.skipIf(SKIP_FIXTURE_TESTS)('DensePose evaluation properties and bad input', () => {
  // loaded at collection time; a skipped suite is still collected
  const body = SKIP_FIXTURE_TESTS ? (undefined as unknown as ReturnType<typeof loadSmplBodyModel>) : loadSmplBodyModel(DIR);
  const parts = SKIP_FIXTURE_TESTS ? [] : [...new Set(Array.from(body.vertexPart))].filter((p) => p >= 1 && p <= 24);

  /** GT people on 255×255 boxes at integer positions, so that point pixels and UV bytes are exact. */
  function selfCase() {
    const full = encodeMask(new Uint8Array(256 * 256).fill(1), 256, 256);
    const images = [{ id: 1, width: 700, height: 600, file_name: '1.png' }, { id: 2, width: 700, height: 600, file_name: '2.png' }];
    const annotations: CocoAnnotation[] = [];
    const results: object[] = [];
    let id = 1;
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    return (async () => {
      for (const img of images) {
        for (const [x, y] of [[10, 20], [300, 200]] as const) {
          const n = 60;
          const iuv = new Uint8Array(3 * 255 * 255).fill(0);
          iuv.fill(parts[0]!, 0, 255 * 255); // foreground everywhere: the mask is the whole box
          const a: CocoAnnotation = { id: id++, image_id: img.id, category_id: 1, bbox: [x, y, 255, 255], area: 255 * 255, iscrowd: 0, dp_x: [], dp_y: [], dp_I: [], dp_U: [], dp_V: [], dp_masks: [full, ...Array(13).fill([])] };
          const used = new Set<number>();
          while (a.dp_x!.length < n) {
            const px = Math.floor(rnd() * 255), py = Math.floor(rnd() * 255);
            if (used.has(py * 255 + px)) continue;
            used.add(py * 255 + px);
            const I = parts[Math.floor(rnd() * parts.length)]!, u8 = Math.floor(rnd() * 256), v8 = Math.floor(rnd() * 256);
            a.dp_x!.push(px); a.dp_y!.push(py); a.dp_I!.push(I); a.dp_U!.push(u8 / 255); a.dp_V!.push(v8 / 255);
            const o = py * 255 + px;
            iuv[o] = I; iuv[255 * 255 + o] = u8; iuv[2 * 255 * 255 + o] = v8;
          }
          annotations.push(a);
          results.push({ image_id: img.id, category_id: 1, bbox: [x, y, 255, 255], score: 0.5 + rnd() / 2, ...(await encodeIuv({ height: 255, width: 255, data: iuv })) });
        }
      }
      const gt: CocoDataset = { images, annotations, categories: [{ id: 1, name: 'person' }] };
      return { gt, results };
    })();
  }

  it('ground truth scored against itself is 1 in GPS, GPSm and IOU', async () => {
    const { gt, results } = await selfCase();
    const dets = await decodeDensePoseResults(validateCocoResults(results, gt, 'self.json'), 'self.json');
    const r = evaluateDensePose(gt, dets, body);
    for (const mode of ['gps', 'gpsm', 'iou'] as const) {
      const s = r[mode]!.named;
      for (const k of ['AP', 'AP50', 'AP75', 'APl', 'AR', 'AR50', 'AR75', 'ARl'] as const) expect(s[k], `${mode} ${k}`).toBeCloseTo(1, 10);
    }
  });

  it('bad input: malformed JSON, unknown image id, wrong uv_shape, undecodable uv_data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-eval-'));
    writeFileSync(join(dir, 'bad.json'), '[{"image_id": 1,\n "score": }]');
    expect(() => readJsonFile(join(dir, 'bad.json'))).toThrow(/bad\.json: malformed JSON at line 2/);
    const { gt, results } = await selfCase();
    const wrongImage = results.map((r, i) => (i === 2 ? { ...r, image_id: 99 } : r));
    expect(() => validateCocoResults(wrongImage, gt, 'res.json')).toThrow(/res\.json: result 2: image_id 99 is not an image of the ground truth/);
    const wrongShape = results.map((r, i) => (i === 1 ? { ...r, uv_shape: [3, 100, 255] } : r));
    await expect(decodeDensePoseResults(validateCocoResults(wrongShape, gt, 'res.json'), 'res.json')).rejects.toThrow(/result 1 .*"uv_shape" \[3,100,255\] does not fit its box/);
    const badShape = results.map((r, i) => (i === 0 ? { ...r, uv_shape: [2, 255, 255] } : r));
    expect(() => validateCocoResults(badShape, gt, 'res.json')).toThrow(/result 0: "uv_shape" must be \[3, h, w\]/);
    const badPng = results.map((r, i) => (i === 3 ? { ...r, uv_data: 'bm90IGEgcG5n' } : r));
    await expect(decodeDensePoseResults(validateCocoResults(badPng, gt, 'res.json'), 'res.json')).rejects.toThrow(/result 3 .*not a decodable base64 PNG/);
  });
});
