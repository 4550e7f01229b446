import { join } from 'node:path';
import { MetricsLog } from '../../train/metrics-log.ts';
import type { FlipSymmetry } from '../../train/sample.ts';

/** Draw RUN/curves.png from RUN/metrics.jsonl (vega-lite). */
export async function plotRunCurves(run: string): Promise<void> {
  const { plotCurves } = await import('../../vis/plot-curves.ts');
  const rows = new MetricsLog(join(run, 'metrics.jsonl')).read();
  if (rows.length > 0) await plotCurves(rows, join(run, 'curves.png'));
}

/**
 * Mirror table for flip augmentation: the synthetic body's (our data sets). COCO's SMPL table
 * (`UV_symmetry_transforms.mat`) is a user file and not read yet, so real COCO data trains unflipped.
 */
export async function trainSymmetry(): Promise<FlipSymmetry> {
  return (await import('../../train/synth-symmetry.ts')).synthFlipSymmetry;
}
