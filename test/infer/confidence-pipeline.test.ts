// Confidence maps through the whole pipeline: the ONNX graphs carry the extra outputs, the host applies
// detectron2's post-processing, and ONNX Runtime and tfjs agree on `person.densepose.confidence`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInputs } from '../../src/infer/run-inputs.ts';
import { savePng } from '../../src/vis/png.ts';
import { createDensePose } from '../../src/infer/densepose.ts';
import { fromConfig } from '../../src/model/config.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { biasedModel, syntheticImage, tinyConfig } from './helpers.ts';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('confidences in results', () => {
  it('WC2M-style model: ORT and tfjs give the same σ₂, κ_u, κ_v, fine and coarse confidences at box size', async () => {
    const c = tinyConfig();
    const config = fromConfig({ ...c, densepose: { ...c.densepose, uvConfidence: 'indep_aniso', segmConfidence: true } });
    const image = syntheticImage(96, 72, 4);
    const rcnn = biasedModel(config);
    const run = async (backend: 'onnx' | 'tfjs') => {
      const dp = await createDensePose({ model: rcnn, backend, tfjsBackend: 'cpu' });
      const people = await dp.estimate(image);
      await dp.dispose();
      return people;
    };
    const onnx = await run('onnx');
    const tfjs = await run('tfjs');
    rcnn.model.dispose();
    expect(onnx.length).toBeGreaterThan(0);
    expect(onnx.length).toBe(tfjs.length);
    const nonzero = new Set<string>();
    onnx.forEach((p, i) => {
      const q = tfjs[i]!;
      expect(Object.keys(p.densepose.confidence ?? {}).sort()).toEqual(['coarseSegm', 'fineSegm', 'kappaU', 'kappaV', 'sigma2']);
      for (const [name, map] of Object.entries(p.densepose.confidence!)) {
        const other = q.densepose.confidence![name as 'sigma2']!;
        expect(map.length).toBe(p.densepose.width * p.densepose.height);
        let worst = 0;
        let scale = 0;
        for (let k = 0; k < map.length; k++) {
          scale = Math.max(scale, Math.abs(other[k]!));
          if (p.densepose.labels[k] === q.densepose.labels[k]) worst = Math.max(worst, Math.abs(map[k]! - other[k]!));
        }
        if (scale > 0) nonzero.add(name);
        expect(worst, name).toBeLessThanOrEqual(1e-4 * scale);
      }
      // segmentation confidences are softplus + ε: at least ε everywhere in the box
      expect(Math.min(...p.densepose.confidence!.coarseSegm!)).toBeGreaterThanOrEqual(Math.fround(0.01));
    });
    expect([...nonzero].sort()).toEqual(['coarseSegm', 'fineSegm', 'kappaU', 'kappaV', 'sigma2']);
  });

  it('densepose infer --confidence: results.json carries the maps ([C,h,w] float32 base64), equal to estimate()', async () => {
    const c = tinyConfig();
    const rcnn = biasedModel(fromConfig({ ...c, densepose: { ...c.densepose, uvConfidence: 'iid_iso' } }));
    const dir = mkdtempSync(join(tmpdir(), 'dp-conf-'));
    try {
      const image = syntheticImage(96, 72, 6);
      await savePng(join(dir, 'a.png'), image);
      const dp = await createDensePose({ model: rcnn, tfjsBackend: 'cpu' });
      const people = await dp.estimate(image);
      const report = await runInputs(dp, [join(dir, 'a.png')], { outDir: join(dir, 'out'), vis: [], iuv: false, confidence: true });
      await dp.dispose();
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { confidence: { names: string[]; shape: number[]; data: string } }[];
      expect(results.length).toBe(people.length);
      expect(report.results.length).toBe(people.length);
      results.forEach((r, i) => {
        const d = people[i]!.densepose;
        expect(r.confidence.names).toEqual(['sigma2']);
        expect(r.confidence.shape).toEqual([1, d.height, d.width]);
        const bytes = Buffer.from(r.confidence.data, 'base64');
        const values = new Float32Array(Uint8Array.from(bytes).buffer);
        expect(Array.from(values)).toEqual(Array.from(d.confidence!.sigma2!));
      });
    } finally {
      rcnn.model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
