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

/** What each summary key means: AP or AR, IoU (or OGPS) thresholds, area range; `AR1`/`AR10` fix maxDets. */
const KEY_MEANING: Record<string, { ap: boolean; thr: string; area: string; maxDets?: number }> = {
  AP: { ap: true, thr: '0.50:0.95', area: 'all' },
  AP50: { ap: true, thr: '0.50', area: 'all' },
  AP75: { ap: true, thr: '0.75', area: 'all' },
  APs: { ap: true, thr: '0.50:0.95', area: 'small' },
  APm: { ap: true, thr: '0.50:0.95', area: 'medium' },
  APl: { ap: true, thr: '0.50:0.95', area: 'large' },
  AR1: { ap: false, thr: '0.50:0.95', area: 'all', maxDets: 1 },
  AR10: { ap: false, thr: '0.50:0.95', area: 'all', maxDets: 10 },
  AR: { ap: false, thr: '0.50:0.95', area: 'all' },
  AR50: { ap: false, thr: '0.50', area: 'all' },
  AR75: { ap: false, thr: '0.75', area: 'all' },
  ARs: { ap: false, thr: '0.50:0.95', area: 'small' },
  ARm: { ap: false, thr: '0.50:0.95', area: 'medium' },
  ARl: { ap: false, thr: '0.50:0.95', area: 'large' },
};

/**
 * One mode's summary as text, a line per key of `values` in its order — the same keys
 * `densepose eval --json` prints — each with pycocotools' description of what it measures.
 */
export function formatSummary(mode: string, values: Readonly<Record<string, number>>, measure: string, maxDets: number): string {
  const rows = Object.entries(values).map(([key, v]) => {
    const m = KEY_MEANING[key];
    const what = m ? `${m.ap ? 'Average Precision' : 'Average Recall   '} @[ ${measure}=${m.thr.padEnd(9)} | area=${m.area.padStart(6)} | maxDets=${String(m.maxDets ?? maxDets).padStart(3)} ]` : '';
    return `  ${key.padEnd(5)} = ${v.toFixed(3)}   ${what}`;
  });
  return [`${mode}:`, ...rows].join('\n');
}
