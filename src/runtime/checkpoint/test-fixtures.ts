import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The shared golden fixtures folder (`../shared/fixtures` next to the checkout), or $DENSEPOSE_FIXTURES.
 * Tests that need it skip where it is absent (e.g. a fresh clone without the shared folder).
 */
export const FIXTURES = process.env['DENSEPOSE_FIXTURES'] ?? fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
export const HAVE_FIXTURES = existsSync(FIXTURES);
