// detectron2 parity through the public API: the fixture checkpoint converted to a model file
// (`densepose convert --config`), opened by `createDensePose` on ONNX Runtime (through the export cache)
// and on tfjs; `detect` gives detectron2's 100 detections (boxes, scores, person labels), `densepose`
// on the fixture's two boxes gives its per-box labels and U/V.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { convertCommand } from '../../src/cli/commands/convert.ts';
import { createDensePose, type DensePose } from '../../src/index.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS, maxAbs, npy } from './helpers.ts';

const D2 = `${FIXTURES}/detectron2`;

describe.skipIf(SKIP_FIXTURE_TESTS)('detectron2 parity through createDensePose', () => {
  let modelFile = '';
  beforeAll(async () => {
    modelFile = join(mkdtempSync(join(tmpdir(), 'dp-d2-parity-')), 'd2-tiny.safetensors');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await convertCommand(['--from', 'detectron2', `${D2}/densepose_rcnn_R_18_tiny_random.pkl`, '--config', 'configs/densepose_rcnn_R_18_tiny_fixture.json', '--out', modelFile])).toBe(0);
    } finally {
      log.mockRestore();
    }
  }, 120_000);

  for (const backend of ['onnx', 'tfjs'] as const) {
    it(`${backend}: detections, then labels and U/V on the fixture boxes`, async () => {
      // fed at 480×640 as detectron2 was (no resize), score threshold 0.05 as its test config
      const dp: DensePose = await createDensePose({ model: modelFile, backend, tfjsBackend: 'wasm', minSize: 480, maxSize: 640, scoreThreshold: 0.05, threads: 2 });
      try {
        expect(dp.backend).toBe(backend);
        const detected = await dp.detect([`${D2}/image_480x640.png`], { maxPeople: 100 });
        const det = detected.detections[0]!;
        const wantBoxes = npy('detectron2/det_boxes_xyxy.npy').data;
        const wantScores = npy('detectron2/det_scores.npy').data;
        expect(det.scores.length).toBe(wantScores.length);
        expect(maxAbs(det.boxes, wantBoxes)).toBeLessThan(0.5);
        expect(maxAbs(det.scores, wantScores)).toBeLessThan(1e-4);
        expect(Array.from(det.classes).every((c) => c === 0)).toBe(true);

        const boxes = npy('detectron2/boxes_xyxy.npy').data;
        const [people] = await dp.densepose(detected, [{ boxes, scores: Float32Array.of(1, 1) }]);
        expect(people).toHaveLength(2);
        people!.forEach((p, b) => {
          const labels = npy(`detectron2/box${b}_labels.npy`);
          const uv = npy(`detectron2/box${b}_uv.npy`);
          const r = p.densepose;
          expect([r.height, r.width]).toEqual(labels.shape);
          const n = r.width * r.height;
          let same = 0;
          let uvErr = 0;
          for (let i = 0; i < n; i++) {
            if (r.labels[i] !== labels.data[i]) continue;
            same++;
            uvErr = Math.max(uvErr, Math.abs(r.u[i]! - uv.data[i]!), Math.abs(r.v[i]! - uv.data[n + i]!));
          }
          expect(same / n, `box ${b} labels`).toBeGreaterThanOrEqual(0.999);
          expect(uvErr, `box ${b} U/V`).toBeLessThan(1e-3);
        });
      } finally {
        await dp.dispose();
      }
    }, 180_000);
  }
});
