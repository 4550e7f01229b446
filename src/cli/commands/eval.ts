import { existsSync } from 'node:fs';
import { DensePoseError } from '../../errors.ts';
import { readJsonFile, validateCocoResults } from '../../data/coco.ts';
import { loadCocoDensePoseJson } from '../../data/coco-densepose.ts';
import { loadSmplBodyModel } from '../../eval/body-model.ts';
import { summarizeOne } from '../../eval/coco-eval.ts';
import { evaluateDensePose } from '../../eval/densepose-eval.ts';
import type { DensePoseEvalMode } from '../../eval/densepose-eval.ts';
import { decodeDensePoseResults } from '../../eval/densepose-results.ts';
import { evaluateDetections } from '../../eval/detection-eval.ts';
import { formatSummary } from '../../eval/report.ts';
import type { EvalSummary } from '../../eval/report.ts';
import { dirname, join } from 'node:path';
import { FINE_PART_NAMES } from '../../data/parts.ts';
import { formatPointReport, pointReport } from '../../eval/point-report.ts';
import { saveConfusionPng } from '../../vis/confusion.ts';
import { optChoice, optFlag, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';

/** A synth set's body folder (DIR/body beside DIR/annotations.json), when it has the three files. */
function defaultBody(gtPath: string): string | undefined {
  const dir = join(dirname(gtPath), 'body');
  return ['SMPL_subdiv.mat', 'SMPL_SUBDIV_TRANSFORM.mat', 'Pdist_matrix.pkl'].every((f) => existsSync(join(dir, f))) ? dir : undefined;
}

const MODES = ['gps', 'gpsm', 'iou', 'bbox', 'segm', 'all'] as const;
type Mode = (typeof MODES)[number];

const REPORTS = ['points'] as const;

export const EVAL_SPEC: CommandSpec = {
  name: 'eval',
  usage: ['eval --gt GT.json --pred RESULTS.json [--body DIR] [--mode gps|gpsm|iou|bbox|segm|all] [--json] [--report points [--confusion PNG]]'],
  description: `Scores COCO results against COCO-DensePose ground truth: bbox and segm AP/AR exactly as pycocotools'
COCOeval (maxDets 100), DensePose GPS, GPSm and mask-IOU AP/AR as detectron2 (maxDets 20). The text
table and --json use the same keys (AP, AP50, AP75, …, AR, AR50, …; docs/formats.md).
"densepose infer" output carries everything: bbox, segmentation (segm) and uv_shape/uv_data
(DensePose modes). A "densepose synth" set holds its evaluation body in DIR/body, used by default
when GT.json is DIR/annotations.json.`,
  options: [
    { name: 'gt', value: 'GT.json', help: 'ground truth, COCO-DensePose JSON (required)' },
    { name: 'pred', value: 'RESULTS.json', help: 'results to score, COCO results JSON (required)' },
    { name: 'body', value: 'DIR', help: 'evaluation body: SMPL_subdiv.mat, SMPL_SUBDIV_TRANSFORM.mat, Pdist_matrix.pkl', default: 'body/ beside GT.json, if present' },
    { name: 'mode', value: 'M', help: `${MODES.join(' | ')}; all = bbox, segm when results carry segmentation,\nand gps, gpsm, iou when they carry uv_data and a body is found`, default: 'all' },
    { name: 'json', help: 'print one JSON object {mode: {key: value}} instead of tables' },
    {
      name: 'report',
      value: 'points',
      help: 'also read the predictions at the GT points: part accuracy, coarse-part accuracy,\nbackground rate, mean |ΔU|, |ΔV| where the part is right, top confusions, and the\n24×24 part confusion matrix as a picture (--confusion)',
    },
    { name: 'confusion', value: 'PNG', help: 'where --report points draws the confusion matrix', default: 'confusion.png beside --pred' },
  ],
};

/**
 * `densepose eval`: COCO-style tables (or one JSON object with `--json`) for the chosen modes.
 * DensePose modes need `--body` (a directory with SMPL_subdiv.mat, SMPL_SUBDIV_TRANSFORM.mat,
 * Pdist_matrix.pkl). `all` runs bbox, plus segm when results carry segmentations, plus the
 * DensePose modes when they carry uv_data and a body is given.
 */
export async function evalCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, EVAL_SPEC);
  if (!args) return 0;
  const gtPath = optString(args, 'gt'), predPath = optString(args, 'pred');
  if (!gtPath || !predPath) throw new DensePoseError('BAD_OPTION', `densepose eval: --gt and --pred are required\n\n${formatHelp(EVAL_SPEC)}`);
  const mode: Mode = optChoice(args, 'mode', MODES, 'all');
  const report = optChoice(args, 'report', REPORTS);
  const bodyDir = optString(args, 'body') ?? defaultBody(gtPath);
  const gt = loadCocoDensePoseJson(gtPath);
  const raw = readJsonFile(predPath, 'results file');
  const results = validateCocoResults(raw, gt, predPath);
  const hasUv = results.length > 0 && results.every((r) => r.uv_data !== undefined);
  const hasSegm = results.length > 0 && results.every((r) => r.segmentation !== undefined);
  const dpModes: DensePoseEvalMode[] = mode === 'all' ? (hasUv && bodyDir ? ['gps', 'gpsm', 'iou'] : []) : mode === 'gps' || mode === 'gpsm' || mode === 'iou' ? [mode] : [];
  const detModes: ('bbox' | 'segm')[] = mode === 'all' ? (hasSegm ? ['bbox', 'segm'] : ['bbox']) : mode === 'bbox' || mode === 'segm' ? [mode] : [];
  if (mode === 'segm' && !hasSegm) {
    const missing = results.filter((r) => r.segmentation === undefined).length;
    throw new DensePoseError(
      'MISSING_KEY',
      `--mode segm needs a "segmentation" (RLE mask) on every result; ${missing} of ${results.length} have none. "densepose infer" writes it (results from an older version or another tool may not): re-run infer, or score boxes with --mode bbox`,
      { where: predPath },
    );
  }
  const skipped: string[] = [];
  if (mode === 'all' && !hasSegm) skipped.push('segm (results carry no "segmentation")');
  if (mode === 'all' && !(hasUv && bodyDir)) skipped.push(`gps, gpsm, iou (${hasUv ? 'no evaluation body: give --body DIR' : 'results carry no "uv_data"'})`);
  const summary: EvalSummary = {};
  const tables: string[] = [];
  for (const m of detModes) {
    const r = evaluateDetections(gt, results, m);
    const s = r.named;
    // The --json summary uses the DensePose names; for boxes AR is AR@100.
    // The DensePose keys first (AR is AR@100 here), then pycocotools' extra small-area / maxDets ones.
    const ar = (iouThr: number) => summarizeOne(r.accumulated, false, { iouThr, maxDets: 100 });
    const values = { AP: s.AP, AP50: s.AP50, AP75: s.AP75, APm: s.APm, APl: s.APl, AR: s.AR100, AR50: ar(0.5), AR75: ar(0.75), ARm: s.ARm, ARl: s.ARl, APs: s.APs, AR1: s.AR1, AR10: s.AR10, ARs: s.ARs };
    summary[m] = values;
    tables.push(formatSummary(m, values, 'IoU', 100));
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
      tables.push(formatSummary(m, mr.named, m === 'iou' ? 'IoU' : 'OGPS', 20));
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
  if (skipped.length > 0) console.error(`densepose eval: --mode all left out ${skipped.join('; ')}`);
  return 0;
}
