import { existsSync, statSync } from 'node:fs';
import { ensureDir } from '../../io.ts';
import { catchInterrupts } from '../interrupt.ts';
import { dirname } from 'node:path';
import { DensePoseError } from '../../errors.ts';
import { BACKENDS } from '../../runtime/backend.ts';
import { distill, mergeShardFiles, parseTransforms, resolveShard, resolveTeacherFile } from '../../train/distill/index.ts';
import type { FlipSymmetry } from '../../train/sample.ts';
import { optChoice, optFlag, optNumber, optOptionalNumber, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';
import { createProgress } from '../progress.ts';

export const DISTILL_SPEC: CommandSpec = {
  name: 'distill',
  usage: ['distill --teacher RUN|MODEL --images DIR --out PSEUDO.json [options]', 'distill merge SHARD1.json SHARD2.json ... --out PSEUDO.json'],
  description: `Data distillation: the teacher (a \`densepose train\` run folder or a .safetensors model file) labels
the images of DIR under test-time transforms; detections are merged by weighted box fusion, dense
outputs by averaged probabilities (flipped views mapped back through the part/UV symmetry), and
people whose fused score passes --score become COCO-DensePose pseudo-labels with a confidence per
point (dp_conf), and dense: a PNG per person (I, U, V, confidence over its box) named by dp_dense.
The file records DIR (its "distill.imageDir"), so "densepose train --data PSEUDO.json" finds the
images wherever the file is. Shards (--shard i/n, or a scheduler's array index) run anywhere;
\`distill merge\` joins them into the file an unsharded run writes.`,
  options: [
    { name: 'teacher', value: 'RUN|MODEL', help: 'teacher: a train run folder or a model file (required)' },
    { name: 'images', value: 'DIR', help: 'folder of unlabelled images (required)' },
    { name: 'out', value: 'PSEUDO.json', help: 'pseudo-label file to write (required)' },
    { name: 'transforms', value: 'T', help: 'comma list of: flip, scales=N[,N...]; flip uses the synthetic body\'s symmetry table', default: 'flip' },
    { name: 'score', value: 'S', help: 'fused-score threshold in [0, 1]', default: 0.8 },
    {
      name: 'shard',
      value: 'i/n',
      help: 'label images with index % n == i of the sorted list; without --shard, a Kubernetes Indexed\nJob\'s JOB_COMPLETION_INDEX (with --shard-count = the Job\'s completions) or a Slurm array\'s\nSLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT',
      default: 'from the scheduler, else 0/1',
    },
    { name: 'shard-count', value: 'N', help: 'number of shards for a Kubernetes Indexed Job (overrides Slurm\'s count)' },
    { name: 'dense-dir', value: 'DIR', help: 'where the dense pseudo-label PNGs go', default: 'dense/ beside --out' },
    { name: 'no-dense', help: 'write sampled points only (no dp_dense)' },
    { name: 'max-points', value: 'N', help: 'dense points per person at most', default: 150 },
    { name: 'max-size', value: 'N', help: 'cap on the longest side at every scale', default: 'the teacher\'s' },
    { name: 'backend', value: 'B', help: BACKENDS.join(' | '), default: 'wasm' },
    { name: 'recursive', help: 'also label images in sub-folders of DIR' },
    { name: 'keep-empty', help: 'keep images where nobody passes --score (they train as background)' },
  ],
};

export const DISTILL_MERGE_SPEC: CommandSpec = {
  name: 'distill merge',
  usage: ['distill merge SHARD1.json SHARD2.json ... --out PSEUDO.json'],
  description: 'Joins the shard files of one distillation into the file an unsharded run writes.',
  options: [{ name: 'out', value: 'PSEUDO.json', help: 'merged file to write (required)' }],
};

async function flipSymmetry(): Promise<FlipSymmetry | undefined> {
  try {
    return (await import('../../train/synth-symmetry.ts')).synthFlipSymmetry;
  } catch {
    return undefined;
  }
}

function mergeCommand(argv: string[]): number {
  const args = parseCommand(argv, DISTILL_MERGE_SPEC);
  if (!args) return 0;
  const out = optString(args, 'out');
  if (!out || args.positional.length === 0) throw new DensePoseError('BAD_OPTION', `densepose distill merge: give the shard files and --out\n\n${formatHelp(DISTILL_MERGE_SPEC)}`);
  ensureDir(dirname(out));
  const merged = mergeShardFiles(args.positional, out);
  console.log(`densepose distill merge: ${args.positional.length} shards → ${merged.images.length} images, ${merged.annotations.length} people → ${out}`);
  return 0;
}

export async function distillCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'merge') return mergeCommand(argv.slice(1));
  const args = parseCommand(argv, DISTILL_SPEC);
  if (!args) return 0;
  if (args.positional.length) throw new DensePoseError('BAD_OPTION', `densepose distill: unexpected argument "${args.positional[0]}" (the only sub-command is "merge")`);
  const teacher = optString(args, 'teacher');
  const images = optString(args, 'images');
  const out = optString(args, 'out');
  const missing = [!teacher && '--teacher', !images && '--images', !out && '--out'].filter(Boolean);
  if (missing.length) throw new DensePoseError('BAD_OPTION', `densepose distill: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required\n\n${formatHelp(DISTILL_SPEC)}`);
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
    const points = labels.annotations.reduce((n, a) => n + (a.dp_I?.length ?? 0), 0);
    const withPoints = labels.annotations.filter((a) => (a.dp_I?.length ?? 0) > 0).length;
    console.log(
      `densepose distill: ${labels.images.length} images, ${labels.annotations.length} people became labels (${withPoints} with dense points), ` +
        `${points} labelled pixels (I, U, V with confidence) (${labels.distill.transforms}, score ≥ ${score}) → ${out}`,
    );
    return failed.length ? 1 : 0;
  } finally {
    interrupt.dispose();
  }
}
