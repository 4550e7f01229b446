import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DensePoseError } from '../../errors.ts';

/**
 * The shared golden fixtures folder (`../shared/fixtures` next to the checkout), or $DENSEPOSE_FIXTURES.
 * Tests that need it skip where it is absent (e.g. a fresh clone without the shared folder).
 */
export const FIXTURES = process.env['DENSEPOSE_FIXTURES'] ?? fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
export const HAVE_FIXTURES = existsSync(FIXTURES);

/** Run `fn`, expect a DensePoseError with `code` whose message contains every one of `parts`; returns it. */
export function expectDensePoseError(fn: () => unknown, code: string, ...parts: string[]): DensePoseError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DensePoseError);
  expect((err as DensePoseError).code).toBe(code);
  for (const p of parts) expect((err as Error).message).toContain(p);
  return err as DensePoseError;
}
