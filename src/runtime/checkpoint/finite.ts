// NaN / Inf in weights: refused when a checkpoint is read or written, with the tensors named, so a
// diverged run or a corrupt file never silently produces a model that finds nobody.
import { DensePoseError } from '../../errors.ts';

interface FloatTensorLike {
  data: ArrayLike<number> | ArrayLike<bigint>;
}

/** Count and first index of the non-finite values of `data` (integer arrays are always finite). */
export function countNonFinite(data: FloatTensorLike['data']): { count: number; first: number } {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return { count: 0, first: -1 };
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is NaN exactly for NaN and ±Infinity; cheaper than Number.isFinite in this loop
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { count, first };
}

/**
 * Throw BAD_FILE naming `where` and the first tensors holding NaN/Inf. `action` says what was being
 * done ("loaded", "saving") for the message.
 */
export function assertFiniteTensors(tensors: Iterable<readonly [string, FloatTensorLike]>, where: string, action = 'in this checkpoint'): void {
  const bad: string[] = [];
  let total = 0;
  for (const [name, t] of tensors) {
    const { count, first } = countNonFinite(t.data);
    if (count === 0) continue;
    total++;
    if (bad.length < 3) bad.push(`"${name}" (${count} of ${t.data.length} values, first ${String((t.data as ArrayLike<number>)[first])} at index ${first})`);
  }
  if (total > 0) {
    throw new DensePoseError(
      'BAD_FILE',
      `${total} tensor${total === 1 ? '' : 's'} ${action} hold${total === 1 ? 's' : ''} NaN or Infinity: ${bad.join(', ')}${total > bad.length ? ', …' : ''} — a corrupt file or a diverged training run`,
      { where },
    );
  }
}
