// Grouped bar chart with error bars (mean ± spread per group and series), e.g. an ablation table's
// GPS AP per row on two held-out sets; rendered with vega-lite to PNG like the training curves.
import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import sharp from 'sharp';
import { DensePoseError } from '../errors.ts';
import { writeFileAtomic } from './png.ts';

export interface BarDatum {
  /** Group on the x axis (e.g. the ablation row). */
  group: string;
  /** Series within a group (e.g. the evaluation set). */
  series: string;
  mean: number;
  /** Half-width of the error bar (e.g. the standard deviation over seeds). */
  spread: number;
}

/** The vega-lite spec of the bars. */
export function barsSpec(data: readonly BarDatum[], options: { title?: string; yTitle?: string } = {}): TopLevelSpec {
  const values = data.map((d) => ({ ...d, lo: d.mean - d.spread, hi: d.mean + d.spread }));
  const x = { field: 'group', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0, labelLimit: 220 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title ?? '',
    width: 120 * new Set(data.map((d) => d.group)).size,
    height: 260,
    data: { values },
    encoding: { x, xOffset: { field: 'series' }, color: { field: 'series', title: null } },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'mean', type: 'quantitative', title: options.yTitle ?? '' } } },
      { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
    ],
  } as TopLevelSpec;
}

/** Render {@link barsSpec} to a PNG file (written atomically). */
export async function plotBars(data: readonly BarDatum[], outPng: string, options: { title?: string; yTitle?: string } = {}): Promise<void> {
  if (data.length === 0) throw new DensePoseError('BAD_INPUT', 'no bars to plot', { where: outPng });
  const view = new vega.View(vega.parse(compile(barsSpec(data, options)).spec), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const png = await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png().toBuffer();
  await writeFileAtomic(outPng, png);
}
