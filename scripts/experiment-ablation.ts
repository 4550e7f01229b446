// `npm run experiment:ablation [-- --iterations 1300 --seeds 1,2 --out experiments/ablation]`: the
// ResNet-18 ablation ladder of issue #14 (src/train/ablation.ts). Resumable: run it again after an
// interruption and finished rows are skipped, an unfinished one resumes from its checkpoint.
// Not part of CI: it takes as long as the budget says.
import { resolve } from 'node:path';
import { optNumber, optString, parseArgs } from '../src/cli/args.ts';
import { initBackend } from '../src/runtime/backend.ts';
import { runAblation } from '../src/train/ablation.ts';

const args = parseArgs(process.argv.slice(2), { values: ['out', 'iterations', 'seeds', 'batch', 'train-images', 'val-images', 'test-images', 'unlabelled-images', 'workers'], flags: [] }, 'experiment:ablation');
const seeds = optString(args, 'seeds', '1,2')!.split(',').map((s) => Number(s.trim()));
if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds must be a comma-separated list of integers, got "${optString(args, 'seeds')}"`);
await initBackend({ backend: 'wasm' });
const ac = new AbortController();
process.on('SIGINT', () => ac.abort());
const results = await runAblation({
  out: resolve(optString(args, 'out', 'experiments/ablation')!),
  iterations: optNumber(args, 'iterations', 1300, 'experiment:ablation'),
  seeds,
  imsPerBatch: optNumber(args, 'batch', 2, 'experiment:ablation'),
  images: {
    train: optNumber(args, 'train-images', 800, 'experiment:ablation'),
    val: optNumber(args, 'val-images', 60, 'experiment:ablation'),
    test: optNumber(args, 'test-images', 60, 'experiment:ablation'),
    unlabelled: optNumber(args, 'unlabelled-images', 400, 'experiment:ablation'),
  },
  workers: optString(args, 'workers') === undefined ? undefined : optNumber(args, 'workers', 1, 'experiment:ablation'),
  signal: ac.signal,
});
console.log(JSON.stringify(results.rows, null, 2));
