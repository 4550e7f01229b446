// Exit codes of the `densepose` command, by class of failure (documented in README.md).
import { DensePoseError, ioError, systemErrorCode, type ErrorCode } from '../errors.ts';

export const EXIT = {
  /** Everything done. */
  ok: 0,
  /** Finished, but some inputs failed (listed on stderr and in the outputs). */
  someInputsFailed: 1,
  /** Bad command line: unknown command or option, missing or invalid value. */
  usage: 2,
  /** A bad input file or data: missing, malformed, invalid contents, bad config. */
  badInput: 3,
  /** Reading or writing failed: disk full, permission denied, a file where a folder must go. */
  io: 4,
  /** Training diverged (loss or gradient norm not finite); no final model is written. */
  diverged: 5,
  /** A bug: an error we did not anticipate (one line; DENSEPOSE_DEBUG=1 prints the stack). */
  internal: 70,
  /** Interrupted (Ctrl-C / SIGTERM); finished work is kept (train: checkpoint, infer: results so far). */
  interrupted: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  BAD_OPTION: EXIT.usage,
  BAD_INPUT: EXIT.badInput,
  BAD_FILE: EXIT.badInput,
  BAD_CONFIG: EXIT.badInput,
  TRUNCATED_FILE: EXIT.badInput,
  SHAPE_MISMATCH: EXIT.badInput,
  MISSING_KEY: EXIT.badInput,
  UNEXPECTED_KEY: EXIT.badInput,
  NOT_FOUND: EXIT.badInput,
  UNSUPPORTED: EXIT.badInput,
  IO: EXIT.io,
  NUMERIC: EXIT.diverged,
  ABORTED: EXIT.interrupted,
};

/** Any thrown value as a DensePoseError when it is one we understand (ours, or a Node system error); else undefined. */
export function asDensePoseError(e: unknown): DensePoseError | undefined {
  if (e instanceof DensePoseError) return e;
  const sys = systemErrorCode(e);
  if (sys) {
    const path = (e as { path?: unknown }).path;
    const syscall = (e as { syscall?: unknown }).syscall;
    return ioError(e, typeof path === 'string' ? path : '', typeof syscall === 'string' ? syscall : 'do I/O');
  }
  return undefined;
}

/** The exit code for a thrown value. */
export function exitCodeFor(e: unknown): number {
  const d = asDensePoseError(e);
  return d ? BY_CODE[d.code] : EXIT.internal;
}
