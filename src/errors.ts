/** Error codes used across densepose-ts; closed set so callers can switch on them. */
export const ERROR_CODES = [
  'BAD_OPTION',
  'BAD_INPUT',
  'BAD_FILE',
  'TRUNCATED_FILE',
  'SHAPE_MISMATCH',
  'MISSING_KEY',
  'UNEXPECTED_KEY',
  'NOT_FOUND',
  'UNSUPPORTED',
  'NUMERIC',
  'ABORTED',
  'NETWORK',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error type of the library: a `code` to switch on, a message that names the file/option and valid values. */
export class DensePoseError extends Error {
  readonly code: ErrorCode;
  /** File or option the error is about, when there is one. */
  readonly where: string | undefined;

  constructor(code: ErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where ? `${options.where}: ${message}` : message, { cause: options.cause });
    this.name = 'DensePoseError';
    this.code = code;
    this.where = options.where;
  }
}

/** `Unknown backbone "resnet19". Expected one of: resnet18, resnet50.` */
export function unknownValue(what: string, value: string, valid: readonly string[]): DensePoseError {
  return new DensePoseError('BAD_OPTION', `Unknown ${what} "${value}". Expected one of: ${valid.join(', ')}.`);
}
