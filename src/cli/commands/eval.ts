import { DensePoseError } from '../../errors.ts';
import { readJsonFile, validateCocoResults } from '../../data/coco.ts';
import { loadCocoDensePoseJson } from '../../data/coco-densepose.ts';
import { loadSmplBodyModel } from '../../eval/body-model.ts';
import { summarizeOne } from '../../eval/coco-eval.ts';
import { evaluateDensePose } from '../../eval/densepose-eval.ts';
import type { DensePoseEvalMode } from '../../eval/densepose-eval.ts';
import { decodeDensePoseResults } from '../../eval/densepose-results.ts';
import { evaluateDetections } from '../../eval/detection-eval.ts';
import { formatTable } from '../../eval/report.ts';
import type { EvalSummary } from '../../eval/report.ts';
import { dirname, join } from 'node:path';
import { FINE_PART_NAMES } from '../../data/parts.ts';
import { formatPointReport, pointReport } from '../../eval/point-report.ts';
import { saveConfusionPng } from '../../vis/confusion.ts';
import { optChoice, optFlag, optString, parseArgs } from '../args.ts';

const MODES = ['gps', 'gpsm', 'iou', 'bbox', 'segm', 'all'] as const;
type Mode = (typeof MODES)[number];

const REPORTS = ['points'] as const;

const USAGE = `usage: densepose eval --gt GT.json --pred RESULTS.json [--body DIR] [--mode gps|gpsm|iou|bbox|segm|all] [--json]
                     [--report points [--confusion PNG]]
  --report points  also read the predictions at the GT points: part accuracy, coarse-part accuracy,
                   background rate, mean |ΔU|, |ΔV| where the part is right, top confusions, and the
                   24×24 part confusion matrix as a picture (--confusion, default confusion.png beside --pred)`;

/**
 * `densepose eval`: COCO-style tables (or one JSON object with `--json`) for the chosen modes.
 * DensePose modes need `--body` (a directory with SMPL_subdiv.mat, SMPL_SUBDIV_TRANSFORM.mat,
 * Pdist_matrix.pkl). `all` runs bbox, plus segm when results carry segmentations, plus the
 * DensePose modes when they carry uv_data and a body is given.
 */
export async function evalCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ['gt', 'pred', 'body', 'mode', 'report', 'confusion'], flags: ['json', 'help'] }, 'eval');
  if (optFlag(args, 'help')) {
    console.log(USAGE);
    return 0;
  }
  const gtPath = optString(args, 'gt'), predPath = optString(args, 'pred');
  if (!gtPath || !predPath) throw new DensePoseError('BAD_OPTION', `densepose eval: --gt and --pred are required. ${USAGE}`);
  const mode: Mode = optChoice(args, 'mode', MODES, 'all');
  const report = optChoice(args, 'report', REPORTS);
  const bodyDir = optString(args, 'body');
  const gt = loadCocoDensePoseJson(gtPath);
  const raw = readJsonFile(predPath, 'results file');
  const results = validateCocoResults(raw, gt, predPath);
  const hasUv = results.length > 0 && results.every((r) => r.uv_data !== undefined);
  const hasSegm = results.length > 0 && results.every((r) => r.segmentation !== undefined);
  const dpModes: DensePoseEvalMode[] = mode === 'all' ? (hasUv && bodyDir ? ['gps', 'gpsm', 'iou'] : []) : mode === 'gps' || mode === 'gpsm' || mode === 'iou' ? [mode] : [];
  const detModes: ('bbox' | 'segm')[] = mode === 'all' ? (hasSegm ? ['bbox', 'segm'] : ['bbox']) : mode === 'bbox' || mode === 'segm' ? [mode] : [];
  const summary: EvalSummary = {};
  const tables: string[] = [];
  for (const m of detModes) {
    const r = evaluateDetections(gt, results, m);
    const s = r.named;
    // The --json summary uses the DensePose names; for boxes AR is AR@100.
    const ar = (iouThr: number) => summarizeOne(r.accumulated, false, { iouThr, maxDets: 100 });
    summary[m] = { AP: s.AP, AP50: s.AP50, AP75: s.AP75, APm: s.APm, APl: s.APl, AR: s.AR100, AR50: ar(0.5), AR75: ar(0.75), ARm: s.ARm, ARl: s.ARl };
    tables.push([`${m}:`, ...r.stats.map((v, i) => ` ${['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'][i]!.padEnd(6)} = ${v.toFixed(3)}`)].join('\n'));
  }
  if (dpModes.length > 0) {
    if (!bodyDir) throw new DensePoseError('BAD_OPTION', `densepose eval: --mode ${mode} needs --body DIR with the evaluation body files`);
    if (!hasUv) throw new DensePoseError('MISSING_KEY', 'every result needs "uv_shape" and "uv_data" for DensePose evaluation', { where: predPath });
    const body = loadSmplBodyModel(bodyDir);
    const dets = await decodeDensePoseResults(results, predPath);
    const r = evaluateDensePose(gt, dets, body, { modes: dpModes });
    for (const m of dpModes) {
      const mr = r[m]!;
      summary[m] = mr.named;
      tables.push(formatTable(m, mr.stats, 'OGPS', 20));
    }
  }
  if (report === 'points') {
    if (!hasUv) throw new DensePoseError('MISSING_KEY', '--report points needs "uv_shape" and "uv_data" in every result', { where: predPath });
    const r = pointReport(gt, await decodeDensePoseResults(results, predPath));
    const png = optString(args, 'confusion') ?? join(dirname(predPath), 'confusion.png');
    // rows: GT parts 1..24; columns: predicted parts 1..24, then background
    const counts = new Uint32Array(24 * 25);
    for (let g = 1; g <= 24; g++) for (let p = 0; p <= 24; p++) counts[(g - 1) * 25 + (p === 0 ? 24 : p - 1)] = r.confusion[g * 25 + p]!;
    const parts = FINE_PART_NAMES.slice(1);
    await saveConfusionPng(png, counts, parts, [...parts, 'background'], { title: `Part confusion at ${r.points} GT points: part accuracy ${(100 * r.partAccuracy).toFixed(1)} %` });
    const { confusion, ...figures } = r;
    (summary as Record<string, unknown>).points = { ...figures, confusion: Array.from({ length: 25 }, (_, g) => Array.from(confusion.subarray(g * 25, g * 25 + 25))), confusionImage: png };
    tables.push(`${formatPointReport(r, FINE_PART_NAMES)}
 confusion matrix → ${png}`);
  }
  if (optFlag(args, 'json')) console.log(JSON.stringify(summary));
  else console.log(tables.join('\n\n'));
  return 0;
}
