/** Error codes used across densepose-ts; closed set so callers can switch on them. */
export const ERROR_CODES = [
  'BAD_OPTION',
  'BAD_INPUT',
  'BAD_FILE',
  'BAD_CONFIG',
  'TRUNCATED_FILE',
  'SHAPE_MISMATCH',
  'MISSING_KEY',
  'UNEXPECTED_KEY',
  'NOT_FOUND',
  'UNSUPPORTED',
  'NUMERIC',
  'IO',
  'ABORTED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error type of the library: a `code` to switch on, a message that names the file/option and valid values. */
export class DensePoseError extends Error {
  readonly code: ErrorCode;
  /** File or option the error is about, when there is one. */
  readonly where: string | undefined;
  /** The message without the `where: ` prefix (what went wrong). */
  readonly detail: string;

  constructor(code: ErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where ? `${options.where}: ${message}` : message, { cause: options.cause });
    this.name = 'DensePoseError';
    this.code = code;
    this.where = options.where;
    this.detail = message;
  }
}

/** `Unknown backbone "resnet19". Expected one of: resnet18, resnet50.` */
export function unknownValue(what: string, value: string, valid: readonly string[], code: ErrorCode = 'BAD_OPTION'): DensePoseError {
  return new DensePoseError(code, `Unknown ${what} "${value}". Expected one of: ${valid.join(', ')}.${didYouMean(value, valid)}`);
}

/** Edit distance (insert, delete, substitute, swap of neighbours), for "did you mean". */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The valid name closest to `name` (case-insensitive edit distance, or a prefix/plural), when it
 * is close enough to be a likely typo; undefined otherwise.
 */
export function closestName(name: string, valid: readonly string[]): string | undefined {
  const n = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const l = v.toLowerCase();
    const d = l.startsWith(n) || n.startsWith(l) ? Math.min(1, Math.abs(l.length - n.length)) : editDistance(n, l);
    if (d < bestD) {
      bestD = d;
      best = v;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(Math.min(name.length, best.length) / 3)) ? best : undefined;
}

/** ` Did you mean "maxIter"?` or the empty string. */
export function didYouMean(name: string, valid: readonly string[]): string {
  const c = closestName(name, valid);
  return c === undefined ? '' : ` Did you mean "${c}"?`;
}

/**
 * An unknown key of a strict JSON object (configs): `Unknown option "solver.maxIters". Expected one
 * of: …. Did you mean "maxIter"?`, code BAD_CONFIG, naming the file in `where`.
 */
export function unknownKey(section: string, key: string, valid: readonly string[], where?: string): DensePoseError {
  const full = section ? `${section}.${key}` : key;
  return new DensePoseError('BAD_CONFIG', `Unknown option "${full}". Expected one of: ${valid.join(', ')}.${didYouMean(key, valid)}`, where === undefined ? {} : { where });
}

/** What Node's system error codes mean, in words for a one-line message. */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EEXIST: 'already exists',
  ENOENT: 'no such file or folder',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  ENOTEMPTY: 'folder not empty',
};

/** The `code` of a Node system error (`ENOSPC`, `ENOTDIR`…), if `e` is one. */
export function systemErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * A file-system failure as a DensePoseError: `cannot write: no space left on the device (ENOSPC)`,
 * code IO (NOT_FOUND for a missing input). `action` says what we tried: "write", "create folder", "read".
 */
export function ioError(e: unknown, path: string, action: string): DensePoseError {
  if (e instanceof DensePoseError) return e;
  const sys = systemErrorCode(e);
  const words = sys ? `${SYSTEM_ERRORS[sys] ?? (e as Error).message} (${sys})` : (e as Error)?.message ?? String(e);
  const code = sys === 'ENOENT' && action.startsWith('read') ? 'NOT_FOUND' : 'IO';
  return new DensePoseError(code, `cannot ${action}: ${words}`, { where: path, cause: e });
}
