// The paper's ResNet-18 ablation ladder on synthetic people (issue #14): (a) detectron2's DensePose-RCNN
// head, (b) + ASPP, (c) + 88×64 RoIs, (d) + Scale Transfer Layer, (e) = (d) + data distillation, each
// row trained with the same budget for several seeds and scored on two held-out synthetic sets.
// Resumable: a run whose result.json exists is skipped, an interrupted run resumes from its
// checkpoint, data sets and pseudo-labels are made once.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DensePoseError } from '../errors.ts';
import { densePoseFlops } from '../model/densepose/flops.ts';
import { writeFileAtomic } from '../runtime/checkpoint/atomic-write.ts';
import { generateDataset } from '../synth/index.ts';
import { plotBars, type BarDatum } from '../vis/plot-bars.ts';
import { resolveTrainConfig, type InputConfig, type SolverConfig, type TrainEngine } from './config.ts';
import { distill } from './distill/index.ts';
import { synthFlipSymmetry } from './synth-symmetry.ts';
import { train } from './train.ts';
import { validateRcnn } from './validate.ts';

/** One row of the table. */
export interface AblationRow {
  id: string;
  name: string;
  /** Model config path (relative to the working directory) or object. */
  model: unknown;
  /** Train on ground truth + pseudo-labels that this row's model (same seed) makes as the teacher. */
  distillFrom?: string;
}

export const PAPER_ROWS: readonly AblationRow[] = [
  { id: 'a', name: 'DensePose-RCNN head (detectron2 default)', model: 'configs/densepose/r18_fpn_rcnn_head.json' },
  { id: 'b', name: '+ ASPP', model: 'configs/densepose/r18_fpn_rcnn_head_aspp.json' },
  { id: 'c', name: '+ 88×64 RoIs', model: 'configs/densepose/r18_fpn_rcnn_head_aspp_88x64.json' },
  { id: 'd', name: "+ Scale Transfer Layer (the paper's head)", model: 'configs/densepose/r18_fpn_rcnn_head_aspp_88x64_stl.json' },
  { id: 'e', name: '(d) + data distillation, teacher (d)', model: 'configs/densepose/r18_fpn_rcnn_head_aspp_88x64_stl.json', distillFrom: 'd' },
];

/** The metrics each run reports per evaluation set. */
export const ABLATION_METRICS = ['gpsAP', 'gpsmAP', 'gpsAR', 'bboxAP'] as const;

export interface AblationOptions {
  /** Folder of everything: data/, runs/, results.json, results.md, results.png. */
  out: string;
  rows?: readonly AblationRow[];
  /** @default [1, 2] */
  seeds?: readonly number[];
  /** Iterations per run (every row the same). */
  iterations: number;
  /** @default 2 */
  imsPerBatch?: number;
  /** Solver and input settings shared by every row (iterations and batch come from the options above). */
  solver?: Partial<SolverConfig>;
  input?: Partial<InputConfig>;
  /** Synthetic set sizes. @default train 800, val 60, test 60, unlabelled 400 */
  images?: { train?: number; val?: number; test?: number; unlabelled?: number };
  /** Image size of the synthetic sets. @default [320, 240] */
  size?: [number, number];
  /** Teacher settings for distillation rows. @default flip, scales 200/240/280, score 0.8, pseudo-label loss weight 0.5 */
  distill?: { scales?: number[]; score?: number; lossWeight?: number };
  /** Training engine of every run. @default the config default (onnx) */
  engine?: TrainEngine;
  /** Synth worker threads. @default synth's default */
  workers?: number;
  /** Called when a run starts training (not for skipped runs). */
  onRun?: (row: AblationRow, seed: number) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Seeds of the synthetic sets: training, the two held-out sets, the unlabelled images. */
export const ABLATION_DATA_SEEDS = { train: 101, val: 9001, test: 9002, unlabelled: 7007 } as const;

export interface RunResult {
  row: string;
  seed: number;
  model: unknown;
  iterations: number;
  /** Images seen = iterations × batch. */
  imagesSeen: number;
  /** Run folder; its metrics.jsonl is the training log. */
  run: string;
  secondsPerIteration: number;
  /** DensePose head FLOPs per box (conv multiply-adds × 2) and the decoder's per 800×1088 image. */
  flopsPerBox: number;
  decoderFlopsPerImage: number;
  /** Pseudo-label file the run trained on (distillation rows). */
  pseudoLabels?: string;
  val: Record<string, number>;
  test: Record<string, number>;
}

export interface RowSummary {
  id: string;
  name: string;
  seeds: number[];
  /** Mean and standard deviation over seeds (population), per set and metric. */
  mean: { val: Record<string, number>; test: Record<string, number> };
  std: { val: Record<string, number>; test: Record<string, number> };
  secondsPerIteration: number;
  flopsPerBox: number;
}

export interface AblationResults {
  protocol: { iterations: number; imsPerBatch: number; seeds: number[]; images: Required<NonNullable<AblationOptions['images']>>; dataSeeds: typeof ABLATION_DATA_SEEDS; distill: Required<NonNullable<AblationOptions['distill']>> };
  rows: RowSummary[];
  runs: RunResult[];
}

/** Median wall time between consecutive logged iterations (robust to resumes and validation pauses). */
export function medianIterationSeconds(metricsPath: string): number {
  const rows = readFileSync(metricsPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { iteration: number; time?: number });
  const d: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!, b = rows[i]!;
    if (a.time !== undefined && b.time !== undefined && b.iteration === a.iteration + 1 && b.time > a.time) d.push(b.time - a.time);
  }
  d.sort((x, y) => x - y);
  return d.length ? d[Math.floor(d.length / 2)]! : 0;
}

function meanStd(xs: readonly number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  return [m, Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(xs.length, 1))];
}

/** Run (or resume) the whole table and write results.json, results.md and results.png. */
export async function runAblation(o: AblationOptions): Promise<AblationResults> {
  const log = o.log ?? ((s: string) => console.log(s));
  const rows = o.rows ?? PAPER_ROWS;
  const seeds = [...(o.seeds ?? [1, 2])];
  const batch = o.imsPerBatch ?? 2;
  const images = { train: 800, val: 60, test: 60, unlabelled: 400, ...o.images };
  const dist = { scales: [200, 240, 280], score: 0.8, lossWeight: 0.5, ...o.distill };
  const [width, height] = o.size ?? [320, 240];
  const ids = new Set(rows.map((r) => r.id));
  for (const r of rows) {
    if (r.distillFrom && (!ids.has(r.distillFrom) || rows.findIndex((x) => x.id === r.distillFrom) > rows.indexOf(r))) {
      throw new DensePoseError('BAD_OPTION', `row ${r.id} distils from "${r.distillFrom}", which must be an earlier row`, { where: 'ablation rows' });
    }
  }
  const out = resolve(o.out);
  const data = join(out, 'data');
  const sets = { train: join(data, 'synth-train'), val: join(data, 'synth-val'), test: join(data, 'synth-test'), unlabelled: join(data, 'synth-unlabelled') };
  for (const k of ['train', 'val', 'test', 'unlabelled'] as const) {
    if (existsSync(join(sets[k], 'annotations.json'))) continue;
    log(`ablation: rendering ${k} set (${images[k]} images, seed ${ABLATION_DATA_SEEDS[k]})`);
    await generateDataset({ out: sets[k], images: images[k], seed: ABLATION_DATA_SEEDS[k], width, height, workers: o.workers, force: true, body: k === 'val' || k === 'test' });
  }
  const runs: RunResult[] = [];
  for (const row of rows) {
    for (const seed of seeds) {
      if (o.signal?.aborted) throw new DensePoseError('ABORTED', `ablation stopped before row ${row.id} seed ${seed}`);
      const runDir = join(out, 'runs', `${row.id}-s${seed}`);
      const resultPath = join(runDir, 'result.json');
      if (existsSync(resultPath)) {
        log(`ablation: row ${row.id} seed ${seed} done (${resultPath}), skipped`);
        runs.push(JSON.parse(readFileSync(resultPath, 'utf8')) as RunResult);
        continue;
      }
      o.onRun?.(row, seed);
      const dataSets: { path: string; lossWeight?: number }[] = [{ path: sets.train }];
      let pseudoLabels: string | undefined;
      if (row.distillFrom) {
        const teacher = join(out, 'runs', `${row.distillFrom}-s${seed}`, 'model_final.safetensors');
        // beside the unlabelled set's images/, where the training loader looks for them; the set's annotations are never read
        pseudoLabels = join(sets.unlabelled, `pseudo-${row.distillFrom}-s${seed}.json`);
        if (!existsSync(pseudoLabels)) {
          log(`ablation: row ${row.id} seed ${seed}: teacher ${teacher} labels ${images.unlabelled} unlabelled images`);
          await distill({ teacher, images: join(sets.unlabelled, 'images'), out: pseudoLabels, denseDir: join(sets.unlabelled, `dense-${row.distillFrom}-s${seed}`), transforms: { flip: true, scales: dist.scales }, symmetry: synthFlipSymmetry, score: dist.score });
        }
        dataSets.push({ path: pseudoLabels, lossWeight: dist.lossWeight });
      }
      const config = resolveTrainConfig({
        model: row.model,
        mode: 'end2end',
        data: dataSets,
        seed,
        solver: { ...o.solver, maxIter: o.iterations, imsPerBatch: batch } as SolverConfig,
        input: { ...o.input } as InputConfig,
      }, process.cwd(), `ablation row ${row.id}`);
      mkdirSync(runDir, { recursive: true });
      log(`ablation: row ${row.id} (${row.name}) seed ${seed}: ${o.iterations} iterations → ${runDir}`);
      const resume = existsSync(join(runDir, 'checkpoints', 'last_checkpoint'));
      const result = await train(config, { out: runDir, resume, symmetry: synthFlipSymmetry, signal: o.signal, engine: o.engine });
      try {
        if (result.stopped === 'aborted') throw new DensePoseError('ABORTED', `row ${row.id} seed ${seed} stopped at iteration ${result.iteration}; run again to resume`);
        const metrics = (path: string) => validateRcnn(result.rcnn, path, { minSizeTest: config.input.minSizeTest, maxSizeTest: config.input.maxSizeTest, full: true });
        const flops = densePoseFlops(result.rcnn.densepose.config);
        const r: RunResult = {
          row: row.id, seed, model: row.model, iterations: result.iteration, imagesSeen: result.iteration * batch, run: runDir,
          secondsPerIteration: medianIterationSeconds(join(runDir, 'metrics.jsonl')),
          flopsPerBox: flops.headPerBox, decoderFlopsPerImage: flops.decoderPerImage,
          pseudoLabels,
          val: await metrics(sets.val),
          test: await metrics(sets.test),
        };
        writeFileAtomic(resultPath, [Buffer.from(`${JSON.stringify(r, null, 2)}\n`)]);
        runs.push(r);
      } finally {
        result.rcnn.model.dispose();
      }
    }
  }
  const summaries: RowSummary[] = rows.map((row) => {
    const mine = runs.filter((r) => r.row === row.id);
    const stat = (set: 'val' | 'test', k: number) => Object.fromEntries(ABLATION_METRICS.map((m) => [m, meanStd(mine.map((r) => r[set][m] ?? 0))[k]!]));
    return {
      id: row.id, name: row.name, seeds: mine.map((r) => r.seed),
      mean: { val: stat('val', 0), test: stat('test', 0) }, std: { val: stat('val', 1), test: stat('test', 1) },
      secondsPerIteration: meanStd(mine.map((r) => r.secondsPerIteration))[0], flopsPerBox: mine[0]?.flopsPerBox ?? 0,
    };
  });
  const results: AblationResults = { protocol: { iterations: o.iterations, imsPerBatch: batch, seeds, images, dataSeeds: ABLATION_DATA_SEEDS, distill: dist }, rows: summaries, runs };
  writeFileAtomic(join(out, 'results.json'), [Buffer.from(`${JSON.stringify(results, null, 2)}\n`)]);
  writeFileAtomic(join(out, 'results.md'), [Buffer.from(ablationMarkdown(results))]);
  const bars: BarDatum[] = summaries.flatMap((s) => (['val', 'test'] as const).map((set) => ({ group: `(${s.id}) ${s.name}`, series: set === 'val' ? 'synth-val' : 'synth-test', mean: s.mean[set].gpsAP!, spread: s.std[set].gpsAP! })));
  await plotBars(bars, join(out, 'results.png'), { title: `DensePose GPS AP, mean ± std over ${seeds.length} seeds, ${o.iterations} iterations each`, yTitle: 'GPS AP' });
  return results;
}

/** The table as markdown: mean ± std per metric on both held-out sets, the cost columns. */
export function ablationMarkdown(r: AblationResults): string {
  const f = (m: number, s: number) => `${m.toFixed(3)} ± ${s.toFixed(3)}`;
  const head = ['row', ...ABLATION_METRICS.map((m) => `${m} val`), ...ABLATION_METRICS.map((m) => `${m} test`), 's/iter', 'GFLOPs/box'];
  const lines = [
    `Iterations ${r.protocol.iterations} × batch ${r.protocol.imsPerBatch} per run, seeds ${r.protocol.seeds.join(', ')}; synth-val (seed ${r.protocol.dataSeeds.val}), synth-test (seed ${r.protocol.dataSeeds.test}).`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const s of r.rows) {
    lines.push(`| (${s.id}) ${s.name} | ${ABLATION_METRICS.map((m) => f(s.mean.val[m]!, s.std.val[m]!)).join(' | ')} | ${ABLATION_METRICS.map((m) => f(s.mean.test[m]!, s.std.test[m]!)).join(' | ')} | ${s.secondsPerIteration.toFixed(2)} | ${(s.flopsPerBox / 1e9).toFixed(3)} |`);
  }
  return `${lines.join('\n')}\n`;
}
