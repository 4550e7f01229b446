// COCO-style text tables and the `--json` summary of an evaluation.
import type { DENSEPOSE_STAT_NAMES } from './coco-eval.ts';

/** The 10 summary values per mode, as `densepose eval --json` prints them. */
export type EvalSummary = Record<string, Record<(typeof DENSEPOSE_STAT_NAMES)[number], number>>;

const LINES: [ap: boolean, thr: string, area: string][] = [
  [true, '0.50:0.95', 'all'], [true, '0.50', 'all'], [true, '0.75', 'all'], [true, '0.50:0.95', 'medium'], [true, '0.50:0.95', 'large'],
  [false, '0.50:0.95', 'all'], [false, '0.50', 'all'], [false, '0.75', 'all'], [false, '0.50:0.95', 'medium'], [false, '0.50:0.95', 'large'],
];

/** pycocotools' summary lines for one mode; `measure` is IoU or OGPS, `maxDets` as evaluated. */
export function formatTable(mode: string, stats: readonly number[], measure: string, maxDets: number): string {
  const rows = LINES.map(([ap, thr, area], i) => {
    const title = ap ? 'Average Precision  (AP)' : 'Average Recall     (AR)';
    return ` ${title} @[ ${measure}=${thr.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${(stats[i] ?? -1).toFixed(3)}`;
  });
  return [`${mode}:`, ...rows].join('\n');
}
