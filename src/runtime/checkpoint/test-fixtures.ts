import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DensePoseError } from '../../errors.ts';

/**
 * The shared golden fixtures folder (`../shared/fixtures` next to the checkout), or $DENSEPOSE_FIXTURES.
 * Tests that need it skip where it is absent (e.g. a fresh clone without the shared folder), except
 * under CI (`CI` set and not "false"/"0"), where they run and fail: CI never passes with the reference
 * checks silently skipped.
 */
export const FIXTURES = process.env['DENSEPOSE_FIXTURES'] ?? fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
export const HAVE_FIXTURES = existsSync(FIXTURES);
/** Whether this run is CI (the `CI` environment variable most CI services set). */
export const IN_CI = process.env['CI'] !== undefined && !['', '0', 'false'].includes(process.env['CI'].toLowerCase());
/** Skip fixture tests: only outside CI, and only when the fixtures folder is absent. */
export const SKIP_FIXTURE_TESTS = !HAVE_FIXTURES && !IN_CI;

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
