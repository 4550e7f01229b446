// The ablation driver on a tiny budget: every row trains, the distillation row learns from its teacher's
// pseudo-labels, results.json / .md / .png are written, and a second call skips the finished rows.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AblationOptions, type AblationResults, runAblation } from '../../src/train/ablation.ts';

const dir = mkdtempSync(join(tmpdir(), 'dp-ablation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('experiment:ablation driver', () => {
  it('runs the rows, writes the table, and is resumable (finished rows skipped)', async () => {
    const tiny = resolve('configs/test/tiny.json');
    const started: string[] = [];
    const options: AblationOptions = {
      out: dir,
      rows: [
        { id: 'a', name: 'tiny head', model: tiny },
        { id: 'e', name: 'tiny head + distillation', model: tiny, distillFrom: 'a' },
      ],
      seeds: [1],
      iterations: 3,
      solver: { warmupIters: 1, checkpointPeriod: 1000, baseLr: 0.01 },
      input: { minSizeTrain: [120], maxSizeTrain: 320, minSizeTest: 120, maxSizeTest: 320 },
      images: { train: 2, val: 2, test: 2, unlabelled: 2 },
      size: [160, 120],
      workers: 0,
      // the driver's logic does not depend on the engine; tfjs has no per-run graph building (faster for 3 iterations)
      engine: 'tfjs',
      distill: { scales: [120], score: 0, lossWeight: 0.5 },
      onRun: (row, seed) => started.push(`${row.id}-s${seed}`),
      log: () => {},
    };
    const first = await runAblation(options);
    expect(started).toEqual(['a-s1', 'e-s1']);
    const onDisk = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as AblationResults;
    expect(onDisk.rows.map((r) => r.id)).toEqual(['a', 'e']);
    for (const r of onDisk.runs) {
      expect(r.iterations).toBe(3);
      expect(r.imagesSeen).toBe(6);
      expect(Number.isFinite(r.val.gpsAP) && Number.isFinite(r.test.bboxAP) && r.val.gpsmAP !== undefined && r.test.gpsAR !== undefined).toBe(true);
      expect(r.flopsPerBox).toBeGreaterThan(0);
      // the log the numbers come from
      expect(readFileSync(join(r.run, 'metrics.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(3);
    }
    // the distillation row trained on the teacher's pseudo-labels, which exist and were made by row a's model
    const e = onDisk.runs.find((r) => r.row === 'e')!;
    expect(existsSync(e.pseudoLabels!)).toBe(true);
    expect(JSON.parse(readFileSync(e.pseudoLabels!, 'utf8')).distill.teacher).toBe(join(dir, 'runs', 'a-s1', 'model_final.safetensors'));
    expect(JSON.parse(readFileSync(join(e.run, 'config.json'), 'utf8')).data.map((d: { path: string }) => d.path)).toEqual([join(dir, 'data', 'synth-train'), e.pseudoLabels]);
    expect(readFileSync(join(dir, 'results.md'), 'utf8')).toMatch(/\| \(e\) tiny head \+ distillation \| /);
    expect(existsSync(join(dir, 'results.png'))).toBe(true);
    // again: nothing retrains, the same table comes back
    started.length = 0;
    const second = await runAblation(options);
    expect(started).toEqual([]);
    expect(second.rows).toEqual(first.rows);
  }, 900_000);
});
