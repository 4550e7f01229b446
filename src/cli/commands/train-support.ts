import { join } from 'node:path';
import { MetricsLog } from '../../train/metrics-log.ts';
import type { FlipSymmetry } from '../../train/sample.ts';

/** Draw RUN/curves.png from RUN/metrics.jsonl (vega-lite). */
export async function plotRunCurves(run: string): Promise<void> {
  const { plotCurves } = await import('../../vis/plot-curves.ts');
  const rows = new MetricsLog(join(run, 'metrics.jsonl')).read();
  if (rows.length > 0) await plotCurves(rows, join(run, 'curves.png'));
}

/** The synthetic body's mirror table (our data); COCO users' SMPL symmetry is not bundled. */
export async function trainSymmetry(): Promise<FlipSymmetry | undefined> {
  return undefined;
}
