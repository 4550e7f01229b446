import { existsSync, statSync } from 'node:fs';
import { ensureDir } from '../../io.ts';
import { catchInterrupts } from '../interrupt.ts';
import { dirname } from 'node:path';
import { DensePoseError } from '../../errors.ts';
import { BACKENDS } from '../../runtime/backend.ts';
import { distill, mergeShardFiles, parseTransforms, resolveShard, resolveTeacherFile } from '../../train/distill/index.ts';
import type { FlipSymmetry } from '../../train/sample.ts';
import { optChoice, optFlag, optNumber, optOptionalNumber, optString, parseArgs } from '../args.ts';
import { createProgress } from '../progress.ts';

const HELP = `Usage: densepose distill --teacher RUN|MODEL --images DIR --out PSEUDO.json [options]
       densepose distill merge SHARD1.json SHARD2.json ... --out PSEUDO.json

Data distillation: the teacher (a \`densepose train\` run folder or a .safetensors model file) labels
the images of DIR under test-time transforms; detections are merged by weighted box fusion, dense
outputs by averaged probabilities (flipped views mapped back through the part/UV symmetry), and
people whose fused score passes --score become COCO-DensePose pseudo-labels with a confidence per
point (dp_conf), and dense: a PNG per person (I, U, V, confidence over its box) named by dp_dense.
Shards (--shard i/n, or a scheduler's array index) run anywhere; \`distill merge\` joins them into the
file an unsharded run writes.

Options:
  --transforms T   comma list of: flip, scales=N[,N...]   (default: flip at the teacher's own scale)
                   flip uses the synthetic body's symmetry table
  --score S        fused-score threshold in [0, 1] (default 0.8)
  --shard i/n      label images with index % n == i of the sorted list (default: from the
                   scheduler, else 0/1): without --shard, a Kubernetes Indexed Job's
                   JOB_COMPLETION_INDEX (with --shard-count = the Job's completions) or a Slurm
                   array's SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT
  --shard-count N  number of shards for a Kubernetes Indexed Job (overrides Slurm's count)
  --dense-dir DIR  where the dense pseudo-label PNGs go (default: dense/ beside --out)
  --no-dense       write sampled points only (no dp_dense)
  --max-points N   dense points per person at most (default 150)
  --max-size N     cap on the longest side at every scale (default: the teacher's)
  --backend B      ${BACKENDS.join(' | ')} (default wasm)
  --recursive      also label images in sub-folders of DIR
  --keep-empty     keep images where nobody passes --score (they train as background)`;

async function flipSymmetry(): Promise<FlipSymmetry | undefined> {
  try {
    return (await import('../../train/synth-symmetry.ts')).synthFlipSymmetry;
  } catch {
    return undefined;
  }
}

function mergeCommand(argv: string[]): number {
  const args = parseArgs(argv, { values: ['out'], flags: ['help'] }, 'distill merge');
  const out = optString(args, 'out');
  if (!out || args.positional.length === 0) throw new DensePoseError('BAD_OPTION', `densepose distill merge: give the shard files and --out\n\n${HELP}`);
  ensureDir(dirname(out));
  const merged = mergeShardFiles(args.positional, out);
  console.log(`densepose distill merge: ${args.positional.length} shards → ${merged.images.length} images, ${merged.annotations.length} people → ${out}`);
  return 0;
}

export async function distillCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  if (argv[0] === 'merge') return mergeCommand(argv.slice(1));
  const args = parseArgs(argv, { values: ['teacher', 'images', 'out', 'transforms', 'score', 'shard', 'shard-count', 'max-points', 'max-size', 'backend', 'dense-dir'], flags: ['recursive', 'keep-empty', 'no-dense'] }, 'distill');
  if (args.positional.length) throw new DensePoseError('BAD_OPTION', `densepose distill: unexpected argument "${args.positional[0]}" (the only sub-command is "merge")`);
  const teacher = optString(args, 'teacher');
  const images = optString(args, 'images');
  const out = optString(args, 'out');
  const missing = [!teacher && '--teacher', !images && '--images', !out && '--out'].filter(Boolean);
  if (missing.length) throw new DensePoseError('BAD_OPTION', `densepose distill: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required\n\n${HELP}`);
  const shardCount = optOptionalNumber(args, 'shard-count', { integer: true, min: 1, max: 1000000 });
  const { shard, source: shardSource } = resolveShard(optString(args, 'shard'), shardCount);
  if (shardSource !== '--shard' && shardSource !== 'default') console.error(`densepose distill: shard ${shard.index}/${shard.count} from ${shardSource}`);
  const score = optNumber(args, 'score', 0.8, 'distill', { min: 0, max: 1 });
  const transforms = parseTransforms(optString(args, 'transforms', 'flip')!, '--transforms');
  const backend = optChoice(args, 'backend', BACKENDS, 'wasm');
  const maxPoints = optNumber(args, 'max-points', 150, 'distill', { integer: true, min: 1, max: 100000 });
  const maxSize = optOptionalNumber(args, 'max-size', { integer: true, min: 8, max: 16384 });
  resolveTeacherFile(teacher!);
  if (!existsSync(images!) || !statSync(images!).isDirectory()) throw new DensePoseError('NOT_FOUND', '--images must be a folder of images', { where: images });
  const symmetry = transforms.flip ? await flipSymmetry() : undefined;
  if (transforms.flip && !symmetry) {
    console.warn('densepose distill: no flip symmetry table available; running without the flip transform');
    transforms.flip = false;
  }
  ensureDir(dirname(out!));
  const interrupt = catchInterrupts('stopping after the current image (nothing is written; rerun to label again)');
  let progress: ReturnType<typeof createProgress> | undefined;
  try {
    const { labels, failed } = await distill({
      teacher: teacher!,
      images: images!,
      out,
      transforms,
      symmetry,
      score,
      shard,
      maxPoints,
      maxSize,
      denseDir: optFlag(args, 'no-dense') ? false : optString(args, 'dense-dir'),
      backend,
      recursive: optFlag(args, 'recursive'),
      keepEmptyImages: optFlag(args, 'keep-empty'),
      signal: interrupt.signal,
      onImage: ({ done, total, people }) => {
        progress ??= createProgress(total, `distill ${shard.index}/${shard.count}`);
        progress.tick(1, `${people} people`);
        if (done === total) progress.done();
      },
    });
    if (failed.length) console.error(`densepose distill: ${failed.length} unreadable image(s) left out:\n  ${failed.map((f) => `${f.file}: ${f.reason}`).join('\n  ')}`);
    console.log(`densepose distill: ${labels.images.length} images, ${labels.annotations.length} people (${labels.distill.transforms}, score ≥ ${score}) → ${out}`);
    return failed.length ? 1 : 0;
  } finally {
    interrupt.dispose();
  }
}
