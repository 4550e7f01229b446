import { join } from 'node:path';
import { DensePoseError } from '../../errors.ts';
import { BACKENDS } from '../../runtime/backend.ts';
import { loadTrainConfig, TRAIN_ENGINES } from '../../train/config.ts';
import { EXECUTION_PROVIDERS } from '../../runtime/onnx/session.ts';
import type { MetricsRow } from '../../train/metrics-log.ts';
import { train } from '../../train/train.ts';
import { parseArgs, optChoice, optFlag, optOptionalNumber, optString } from '../args.ts';
import { EXIT } from '../exit-codes.ts';
import { catchInterrupts } from '../interrupt.ts';
import { createProgress } from '../progress.ts';
import { plotRunCurves, trainSymmetry } from './train-support.ts';

const HELP = `Usage: densepose train --config CFG.json --out RUN [--data DIR ...] [--resume] [--max-iter N] [--engine onnx|tfjs] [--ep cpu|cuda|...] [--backend wasm|cpu|tensorflow]

Trains detector + DensePose head (config "mode": "end2end") or the head on ground-truth boxes ("head").
Writes RUN/metrics.jsonl (one row per iteration), RUN/checkpoints/ (atomic, last K kept),
RUN/curves.png and RUN/model_final.safetensors. Ctrl-C saves a checkpoint and exits; --resume
continues from the newest checkpoint with the same data order.
--engine: onnx (default; forward + backward graphs on ONNX Runtime, --ep picks its execution provider)
or tfjs (the TensorFlow.js reference); the config's "engine" key says the same.`;

function formatLosses(row: MetricsRow): string {
  if (row.val) return Object.entries(row.val).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(' ');
  const parts = Object.entries(row.losses ?? {}).map(([k, v]) => `${k.replace('loss_', '')} ${v.toFixed(3)}`);
  return `loss ${row.totalLoss?.toFixed(3)} | ${parts.join(' ')}`;
}

export async function trainCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const args = parseArgs(argv, { values: ['config', 'out', 'data', 'max-iter', 'backend', 'engine', 'ep'], flags: ['resume'] }, 'train');
  const configPath = optString(args, 'config');
  const out = optString(args, 'out');
  if (!configPath || !out) throw new DensePoseError('BAD_OPTION', `densepose train: --config and --out are required\n\n${HELP}`);
  const config = loadTrainConfig(configPath);
  const data = args.options.get('data');
  if (data) config.data = data.map((path) => ({ path }));
  const maxIter = optOptionalNumber(args, 'max-iter', { integer: true, min: 1 });
  if (maxIter !== undefined) config.solver.maxIter = maxIter;
  const backend = optChoice(args, 'backend', BACKENDS);
  const engine = optChoice(args, 'engine', TRAIN_ENGINES);
  const ep = optChoice(args, 'ep', EXECUTION_PROVIDERS);

  const interrupt = catchInterrupts('saving a checkpoint');
  const progress = createProgress(config.solver.maxIter, 'train');
  const bad: string[] = [];
  try {
    let first = true;
    const result = await train(config, {
      out,
      resume: optFlag(args, 'resume'),
      signal: interrupt.signal,
      backend,
      engine,
      executionProvider: ep,
      symmetry: await trainSymmetry(),
      onBadImage: (file, reason) => bad.push(`${file}: ${reason}`),
      onLog: (row) => {
        if (first) {
          progress.tick(row.iteration, formatLosses(row));
          first = false;
        }
        if (row.val) console.error(`\n[iter ${row.iteration + 1}] validation: ${formatLosses(row)}`);
        else progress.tick(1, formatLosses(row));
      },
    });
    progress.done();
    await plotRunCurves(out);
    result.rcnn.model.dispose();
    if (bad.length) console.error(`skipped ${bad.length} unreadable image(s):\n  ${bad.join('\n  ')}`);
    console.log(result.stopped === 'finished' ? `done: ${join(out, 'model_final.safetensors')}` : `stopped at iteration ${result.iteration}; resume with --resume (${result.lastCheckpoint})`);
    return result.stopped === 'finished' ? EXIT.ok : EXIT.interrupted;
  } finally {
    interrupt.dispose();
  }
}
