import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DensePoseError, unknownValue } from '../../errors.ts';
import { BACKENDS, type BackendName } from '../../runtime/backend.ts';
import { distill, mergeShardFiles, parseShard, parseTransforms, resolveTeacherFile } from '../../train/distill/index.ts';
import type { FlipSymmetry } from '../../train/sample.ts';
import { optFlag, optNumber, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';
import { createProgress } from '../progress.ts';

export const DISTILL_SPEC: CommandSpec = {
  name: 'distill',
  usage: ['distill --teacher RUN|MODEL --images DIR --out PSEUDO.json [options]', 'distill merge SHARD1.json SHARD2.json ... --out PSEUDO.json'],
  description: `Data distillation: the teacher (a \`densepose train\` run folder or a .safetensors model file) labels
the images of DIR under test-time transforms; detections are merged by weighted box fusion, dense
outputs by averaged probabilities (flipped views mapped back through the part/UV symmetry), and
people whose fused score passes --score become COCO-DensePose pseudo-labels with a confidence per
point (dp_conf). The file records DIR (its "distill.imageDir"), so "densepose train --data PSEUDO.json"
finds the images wherever the file is. Shards (--shard i/n) run anywhere; \`distill merge\` joins
them into the file an unsharded run writes.`,
  options: [
    { name: 'teacher', value: 'RUN|MODEL', help: 'teacher: a train run folder or a model file (required)' },
    { name: 'images', value: 'DIR', help: 'folder of unlabelled images (required)' },
    { name: 'out', value: 'PSEUDO.json', help: 'pseudo-label file to write (required)' },
    { name: 'transforms', value: 'T', help: 'comma list of: flip, scales=N[,N...]; flip uses the synthetic body\'s symmetry table', default: 'flip' },
    { name: 'score', value: 'S', help: 'fused-score threshold in [0, 1]', default: 0.8 },
    { name: 'shard', value: 'i/n', help: 'label images with index % n == i of the sorted list', default: '0/1' },
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
  mkdirSync(dirname(out), { recursive: true });
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
  const shard = parseShard(optString(args, 'shard', '0/1')!, '--shard');
  const score = optNumber(args, 'score', 0.8, 'distill');
  if (!(score >= 0 && score <= 1)) throw new DensePoseError('BAD_OPTION', `densepose distill: --score must be in [0, 1], got ${score}`);
  const transforms = parseTransforms(optString(args, 'transforms', 'flip')!, '--transforms');
  const backend = optString(args, 'backend', 'wasm')!;
  if (!(BACKENDS as readonly string[]).includes(backend)) throw unknownValue('backend (--backend)', backend, BACKENDS);
  const maxPoints = optNumber(args, 'max-points', 150, 'distill');
  const maxSize = optString(args, 'max-size') === undefined ? undefined : optNumber(args, 'max-size', 0, 'distill');
  resolveTeacherFile(teacher!);
  if (!existsSync(images!) || !statSync(images!).isDirectory()) throw new DensePoseError('NOT_FOUND', '--images must be a folder of images', { where: images });
  const symmetry = transforms.flip ? await flipSymmetry() : undefined;
  if (transforms.flip && !symmetry) {
    console.warn('densepose distill: no flip symmetry table available; running without the flip transform');
    transforms.flip = false;
  }
  mkdirSync(dirname(out!), { recursive: true });
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
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
      backend: backend as BackendName,
      recursive: optFlag(args, 'recursive'),
      keepEmptyImages: optFlag(args, 'keep-empty'),
      signal: ac.signal,
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
    process.off('SIGINT', onSigint);
  }
}
