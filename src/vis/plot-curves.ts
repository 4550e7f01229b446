// Training curves (RUN/curves.png): loss terms against iteration on a log axis, validation scores
// against iteration. vega-lite spec → vega View (headless) → SVG → PNG with sharp.
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { DensePoseError } from '../errors.ts';
import { writeFileAtomic } from './png.ts';

/** What the plot reads from a `RUN/metrics.jsonl` row (structurally train's MetricsRow). */
export interface CurvesRow {
  iteration: number;
  losses?: Record<string, number>;
  totalLoss?: number;
  /** Validation scores, e.g. `{ bboxAP: 0.31, gpsAP: 0.12 }`. */
  val?: Record<string, number>;
}

export interface PlotCurvesOptions {
  /** Width of each chart, CSS pixels. @default 480 */
  width?: number;
  /** Height of each chart, CSS pixels. @default 220 */
  height?: number;
  /** Device pixels per CSS pixel in the PNG. @default 2 */
  scale?: number;
}

/** Long-form data of the two charts; non-finite values and, for the log axis, non-positive losses are left out. */
export function curvesData(rows: readonly CurvesRow[]): { losses: { iteration: number; term: string; value: number }[]; scores: { iteration: number; metric: string; value: number }[] } {
  const losses: { iteration: number; term: string; value: number }[] = [];
  const scores: { iteration: number; metric: string; value: number }[] = [];
  for (const r of rows) {
    if (!Number.isFinite(r.iteration)) continue;
    for (const [term, value] of Object.entries(r.losses ?? {})) if (Number.isFinite(value) && value > 0) losses.push({ iteration: r.iteration, term, value });
    if (r.totalLoss !== undefined && Number.isFinite(r.totalLoss) && r.totalLoss > 0) losses.push({ iteration: r.iteration, term: 'total', value: r.totalLoss });
    for (const [metric, value] of Object.entries(r.val ?? {})) if (Number.isFinite(value)) scores.push({ iteration: r.iteration, metric, value });
  }
  return { losses, scores };
}

/** The vega-lite spec of the curves (exported so callers can render it elsewhere, e.g. a browser). */
export function curvesSpec(rows: readonly CurvesRow[], options: PlotCurvesOptions = {}): TopLevelSpec {
  const { losses, scores } = curvesData(rows);
  const width = options.width ?? 480;
  const height = options.height ?? 220;
  const x = { field: 'iteration', type: 'quantitative', title: 'iteration' } as const;
  const lossChart = {
    title: 'training losses',
    width,
    height,
    data: { values: losses },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'loss (log)' },
      color: { field: 'term', type: 'nominal', title: 'term' },
    },
  } as const;
  const scoreChart = {
    title: 'validation',
    width,
    height,
    data: { values: scores },
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', title: 'AP' },
      color: { field: 'metric', type: 'nominal', title: 'metric' },
    },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    vconcat: scores.length > 0 ? [lossChart, scoreChart] : [lossChart],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** SVG text of the curves. */
export async function curvesSvg(rows: readonly CurvesRow[], options: PlotCurvesOptions = {}): Promise<string> {
  const { losses, scores } = curvesData(rows);
  if (losses.length === 0 && scores.length === 0) throw new DensePoseError('BAD_INPUT', 'no finite losses or validation scores to plot (rows need "losses", "totalLoss" or "val")', { where: 'plotCurves' });
  const view = new vega.View(vega.parse(compile(curvesSpec(rows, options)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render the curves of metrics rows to a PNG file (written atomically). */
export async function plotCurves(rows: readonly CurvesRow[], outPng: string, options: PlotCurvesOptions = {}): Promise<void> {
  const svg = await curvesSvg(rows, options);
  const density = 72 * (options.scale ?? 2);
  const png = await sharp(Buffer.from(svg), { density }).flatten({ background: '#ffffff' }).png().toBuffer();
  await writeFileAtomic(outPng, png);
}
