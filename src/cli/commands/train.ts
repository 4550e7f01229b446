import { join, resolve } from 'node:path';
import { DensePoseError } from '../../errors.ts';
import { BACKENDS } from '../../runtime/backend.ts';
import { loadTrainConfig, TRAIN_ENGINES } from '../../train/config.ts';
import { EXECUTION_PROVIDERS } from '../../runtime/onnx/session.ts';
import type { MetricsRow } from '../../train/metrics-log.ts';
import { train } from '../../train/train.ts';
import { optChoice, optFlag, optNumber, optOptionalNumber, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';
import { EXIT } from '../exit-codes.ts';
import { catchInterrupts } from '../interrupt.ts';
import { createProgress } from '../progress.ts';
import { plotRunCurves, trainSymmetry } from './train-support.ts';

export const TRAIN_SPEC: CommandSpec = {
  name: 'train',
  usage: ['train --config CFG.json --out RUN [--data DIR ...] [--val DIR] [--resume] [--max-iter N] [--engine onnx|tfjs]'],
  description: `Trains detector + DensePose head (config "mode": "end2end") or the head on ground-truth boxes ("head").
Writes RUN/metrics.jsonl (one row per iteration), RUN/checkpoints/ (atomic, last K kept),
RUN/curves.png and RUN/model_final.safetensors. Ctrl-C saves a checkpoint and exits; --resume
continues from the newest checkpoint with the same data order. On a terminal a progress bar shows
the losses; otherwise (a log file, CI) a line every --log-every iterations.
A config to start from: configs/train/quick-synth.json (minutes on a CPU; docs/training-config.md
lists every key).`,
  options: [
    { name: 'config', value: 'CFG.json', help: 'training config (required)' },
    { name: 'out', value: 'RUN', help: 'run folder (required)' },
    { name: 'data', value: 'DIR', help: 'training set (folder with annotations.json, or a COCO-DensePose JSON);\nreplaces the config\'s "data"', default: 'the config\'s', repeatable: true },
    { name: 'val', value: 'DIR', help: 'validation set; replaces the config\'s "val" ("none": no validation)', default: 'the config\'s' },
    { name: 'max-iter', value: 'N', help: 'iterations; replaces solver.maxIter', default: 'the config\'s' },
    { name: 'engine', value: 'E', help: `${TRAIN_ENGINES.join(' | ')}: onnx runs forward + backward graphs on ONNX Runtime (--ep picks\nits execution provider), tfjs the TensorFlow.js reference; replaces the config's "engine"`, default: 'the config\'s, else onnx' },
    { name: 'ep', value: 'NAME', help: `ONNX Runtime execution provider for --engine onnx: ${EXECUTION_PROVIDERS.join(', ')}`, default: 'cpu' },
    { name: 'threads', value: 'N', help: 'ONNX Runtime intra-op threads for --engine onnx (0: one per physical core)', default: 0 },
    { name: 'backend', value: 'B', help: `tfjs backend: ${BACKENDS.join(', ')}`, default: 'wasm (or $DENSEPOSE_BACKEND)' },
    { name: 'log-every', value: 'N', help: 'without a terminal: print a progress line every N iterations', default: 20 },
    { name: 'resume', help: 'continue from RUN\'s newest checkpoint' },
  ],
};

function formatLosses(row: MetricsRow): string {
  if (row.val) return Object.entries(row.val).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(' ');
  const parts = Object.entries(row.losses ?? {}).map(([k, v]) => `${k.replace('loss_', '')} ${v.toFixed(3)}`);
  return `loss ${row.totalLoss?.toFixed(3)} | ${parts.join(' ')}`;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, TRAIN_SPEC);
  if (!args) return 0;
  const configPath = optString(args, 'config');
  const out = optString(args, 'out');
  if (!configPath || !out) throw new DensePoseError('BAD_OPTION', `densepose train: --config and --out are required\n\n${formatHelp(TRAIN_SPEC)}`);
  const config = loadTrainConfig(configPath);
  const data = args.options.get('data');
  if (data) config.data = data.map((path) => ({ path: resolve(path) }));
  const val = optString(args, 'val');
  if (val !== undefined) config.val = val === 'none' ? undefined : resolve(val);
  const maxIter = optOptionalNumber(args, 'max-iter', { integer: true, min: 1 });
  if (maxIter !== undefined) config.solver.maxIter = maxIter;
  const backend = optChoice(args, 'backend', BACKENDS);
  const engine = optChoice(args, 'engine', TRAIN_ENGINES);
  const ep = optChoice(args, 'ep', EXECUTION_PROVIDERS);
  const logEvery = optNumber(args, 'log-every', 20, 'train', { integer: true, min: 1 });
  const threads = optNumber(args, 'threads', 0, 'train', { integer: true, min: 0 });

  const interrupt = catchInterrupts('saving a checkpoint');
  const progress = createProgress(config.solver.maxIter, 'train', { logEvery });
  const bad: string[] = [];
  try {
    let reported = 0;
    const result = await train(config, {
      out,
      resume: optFlag(args, 'resume'),
      signal: interrupt.signal,
      backend,
      engine,
      executionProvider: ep,
      threads,
      symmetry: await trainSymmetry(),
      onBadImage: (file, reason) => bad.push(`${file}: ${reason}`),
      onLog: (row) => {
        if (row.val) console.error(`\n[iter ${row.iteration + 1}] validation: ${formatLosses(row)}`);
        else {
          // Rows come every config.logPeriod iterations (and a resumed run starts past 0): advance by iterations, not rows.
          const done = row.iteration + 1;
          progress.tick(done - reported, formatLosses(row));
          reported = done;
        }
      },
    });
    progress.done();
    await plotRunCurves(out);
    result.rcnn.model.dispose();
    if (bad.length) console.error(`left out of training: ${bad.length} unreadable image(s) or untrainable annotation(s):\n  ${bad.join('\n  ')}`);
    console.log(result.stopped === 'finished' ? `done: ${join(out, 'model_final.safetensors')}` : `stopped at iteration ${result.iteration}; resume with --resume (${result.lastCheckpoint})`);
    return result.stopped === 'finished' ? EXIT.ok : EXIT.interrupted;
  } finally {
    interrupt.dispose();
  }
}
