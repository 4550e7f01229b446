// Options of data distillation and the parsers for their command-line forms (`--transforms`, `--shard`).
import { DensePoseError } from '../../errors.ts';

/** Test-time transforms the teacher runs under: every scale, each also mirrored when `flip`. */
export interface DistillTransforms {
  /** Mirror the image horizontally (needs a {@link FlipSymmetry}). */
  flip: boolean;
  /** Shortest-side sizes (pixels) the image is resized to; empty = the teacher's own `minSizeTest`. */
  scales: number[];
}

/** Which slice of the sorted image list a run labels: images with `index % count === index`. */
export interface DistillShard {
  index: number;
  count: number;
}

/** One concrete test-time view of an image. */
export interface TransformView {
  scale: number;
  flip: boolean;
}

const TRANSFORM_HELP = 'Expected a comma-separated list of: flip, scales=N[,N...] (e.g. "flip,scales=600,800,1000").';

/**
 * Parse `--transforms`: `flip`, `scales=600,800,1000` (the numbers after `scales=` are all scales),
 * in any order, e.g. `flip,scales=600,800,1000` or `scales=800`. Throws BAD_OPTION naming the token.
 */
export function parseTransforms(text: string, where = '--transforms'): DistillTransforms {
  const out: DistillTransforms = { flip: false, scales: [] };
  let inScales = false;
  for (const raw of text.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    if (token === 'flip') {
      out.flip = true;
      inScales = false;
      continue;
    }
    let num = token;
    if (token.startsWith('scales=')) {
      num = token.slice('scales='.length);
      inScales = true;
    } else if (!inScales) {
      throw new DensePoseError('BAD_OPTION', `unknown transform "${token}". ${TRANSFORM_HELP}`, { where });
    }
    const n = Number(num);
    if (!Number.isInteger(n) || n < 16 || n > 4096) {
      throw new DensePoseError('BAD_OPTION', `scale "${num}" must be an integer number of pixels in 16..4096. ${TRANSFORM_HELP}`, { where });
    }
    out.scales.push(n);
  }
  return out;
}

/** Parse `--shard i/n` (0 ≤ i < n). */
export function parseShard(text: string, where = '--shard'): DistillShard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new DensePoseError('BAD_OPTION', `"${text}" is not a shard: expected i/n with integers 0 ≤ i < n (e.g. 0/4 … 3/4)`, { where });
  }
  return { index, count };
}

/** The views in a fixed order: scales as given (duplicates dropped), unflipped before flipped at each scale. */
export function transformViews(t: DistillTransforms, defaultScale: number): TransformView[] {
  const scales = [...new Set(t.scales.length ? t.scales : [defaultScale])];
  const views: TransformView[] = [];
  for (const scale of scales) {
    views.push({ scale, flip: false });
    if (t.flip) views.push({ scale, flip: true });
  }
  return views;
}

/** Canonical text of a transform set, as written in the output's `distill.transforms`. */
export function formatTransforms(views: readonly TransformView[]): string {
  const scales = [...new Set(views.map((v) => v.scale))];
  return `${views.some((v) => v.flip) ? 'flip,' : ''}scales=${scales.join(',')}`;
}

/** Where a run's shard came from: `--shard`, a scheduler's environment, or the default (everything). */
export interface ResolvedShard {
  shard: DistillShard;
  /** e.g. `--shard`, `JOB_COMPLETION_INDEX (Kubernetes Indexed Job)`, `SLURM_ARRAY_TASK_ID (Slurm job array)`, `default`. */
  source: string;
}

function envInt(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new DensePoseError('BAD_OPTION', `must be a non-negative integer, got "${raw}"`, { where: `environment variable ${name}` });
  return n;
}

/**
 * The shard of this run. `--shard i/n` wins; otherwise a scheduler's array task:
 * - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` is the index; the count is `--shard-count` (the Job's
 *   `completions`, which Kubernetes does not put in the pod's environment);
 * - Slurm job array: index `(SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP` (so
 *   `--array=1-8` or `--array=0-14:2` work), count `SLURM_ARRAY_TASK_COUNT` (or `--shard-count`).
 * Neither: the whole list (0/1). Throws BAD_OPTION naming the variable when the values do not make a shard.
 */
export function resolveShard(shardText: string | undefined, shardCount: number | undefined, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedShard {
  if (shardCount !== undefined && !(Number.isInteger(shardCount) && shardCount >= 1)) throw new DensePoseError('BAD_OPTION', `must be a positive integer, got ${shardCount}`, { where: '--shard-count' });
  if (shardText !== undefined) {
    if (shardCount !== undefined) throw new DensePoseError('BAD_OPTION', '--shard i/n already gives the count; --shard-count is for scheduler array tasks (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID)', { where: '--shard-count' });
    return { shard: parseShard(shardText, '--shard'), source: '--shard' };
  }
  const check = (index: number, count: number, source: string, hint: string): ResolvedShard => {
    if (index >= count) throw new DensePoseError('BAD_OPTION', `shard index ${index} is not below the shard count ${count}: ${hint}`, { where: source });
    return { shard: { index, count }, source };
  };
  const k8s = envInt(env, 'JOB_COMPLETION_INDEX');
  if (k8s !== undefined) {
    const where = 'JOB_COMPLETION_INDEX (Kubernetes Indexed Job)';
    if (shardCount === undefined) throw new DensePoseError('BAD_OPTION', `is ${k8s}, but the number of shards is unknown: pass --shard-count N with the Job's completions`, { where });
    return check(k8s, shardCount, where, "--shard-count must equal the Job's completions");
  }
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (id !== undefined) {
    const where = 'SLURM_ARRAY_TASK_ID (Slurm job array)';
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    const count = shardCount ?? envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    if (count === undefined) throw new DensePoseError('BAD_OPTION', `is ${id}, but SLURM_ARRAY_TASK_COUNT is not set: pass --shard-count N`, { where });
    if (id < min || step < 1 || (id - min) % step !== 0) throw new DensePoseError('BAD_OPTION', `is ${id}, not on the array's range (SLURM_ARRAY_TASK_MIN ${min}, step ${step})`, { where });
    return check((id - min) / step, count, where, 'use a contiguous array (--array=0-N or A-B[:step]), or give --shard i/n');
  }
  if (shardCount !== undefined) throw new DensePoseError('BAD_OPTION', 'needs a scheduler array index (JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); without one, give --shard i/n', { where: '--shard-count' });
  return { shard: { index: 0, count: 1 }, source: 'default' };
}
