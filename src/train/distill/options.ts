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
