// `npm run experiment:smoke [-- --minutes 60 --images 2000]`: the smoke experiment of the training
// issue. Renders synthetic train/val sets, trains the bundled R18 efficient-head model for a fixed
// wall-clock budget (Ctrl-C-style stop with a checkpoint when time is up), then scores bbox AP and
// DensePose GPS AP on synth-val. Not part of CI: it takes as long as you give it.
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createProgress } from '../src/cli/progress.ts';
import { parseArgs, optNumber, optString } from '../src/cli/args.ts';
import { generateDataset } from '../src/synth/index.ts';
import { loadTrainConfig } from '../src/train/config.ts';
import { synthFlipSymmetry } from '../src/train/synth-symmetry.ts';
import { train } from '../src/train/train.ts';
import { validateRcnn } from '../src/train/validate.ts';

const args = parseArgs(process.argv.slice(2), { values: ['minutes', 'images', 'val-images', 'out', 'config'], flags: [] }, 'experiment:smoke');
const minutes = optNumber(args, 'minutes', 60, 'experiment:smoke');
const out = resolve(optString(args, 'out', 'runs/smoke')!);
const trainDir = join(out, 'synth-train');
const valDir = join(out, 'synth-val');

async function ensureSet(dir: string, images: number, seed: number): Promise<void> {
  if (existsSync(join(dir, 'annotations.json'))) return;
  const bar = createProgress(images, `synth ${dir}`);
  await generateDataset({ out: dir, images, seed, width: 320, height: 240, onProgress: () => bar.tick() });
  bar.done();
}

const t0 = performance.now();
await ensureSet(trainDir, optNumber(args, 'images', 2000, 'experiment:smoke'), 101);
await ensureSet(valDir, optNumber(args, 'val-images', 100, 'experiment:smoke'), 9001);
const tData = (performance.now() - t0) / 1000;

const config = loadTrainConfig(resolve(optString(args, 'config', 'configs/train/default-synth.json')!));
config.data = [{ path: trainDir }];
config.val = undefined;
const ac = new AbortController();
const budget = setTimeout(() => ac.abort(), minutes * 60_000);
const bar = createProgress(config.solver.maxIter, 'train');
const t1 = performance.now();
const result = await train(config, {
  out: join(out, 'run'),
  resume: existsSync(join(out, 'run', 'checkpoints', 'last_checkpoint')),
  signal: ac.signal,
  symmetry: synthFlipSymmetry,
  onLog: (row) => bar.tick(1, row.totalLoss !== undefined ? `loss ${row.totalLoss.toFixed(3)}` : ''),
});
clearTimeout(budget);
bar.done();
const tTrain = (performance.now() - t1) / 1000;
const scores = await validateRcnn(result.rcnn, valDir, { minSizeTest: config.input.minSizeTest, maxSizeTest: config.input.maxSizeTest });
result.rcnn.model.dispose();
const summary = { iterations: result.iteration, stopped: result.stopped, dataSeconds: Math.round(tData), trainSeconds: Math.round(tTrain), ...scores };
writeFileSync(join(out, 'result.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary, null, 2));
