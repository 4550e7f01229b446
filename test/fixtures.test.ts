// The golden fixtures (../shared/fixtures or $DENSEPOSE_FIXTURES) are checked by the reference tests,
// which skip outside CI where the folder is absent. Under CI the absence itself fails, by name.
import { describe, expect, it } from 'vitest';
import { FIXTURES, HAVE_FIXTURES, IN_CI, SKIP_FIXTURE_TESTS } from '../src/runtime/checkpoint/test-fixtures.ts';

describe('golden fixtures', () => {
  it.runIf(IN_CI)('are present under CI', () => {
    expect(HAVE_FIXTURES, `fixtures folder ${FIXTURES} is missing: CI must run the detectron2/pycocotools reference tests (set DENSEPOSE_FIXTURES)`).toBe(true);
  });

  it('are skipped only outside CI and only when absent', () => {
    expect(SKIP_FIXTURE_TESTS).toBe(!HAVE_FIXTURES && !IN_CI);
    if (!HAVE_FIXTURES) console.warn(`golden fixtures absent (${FIXTURES}): the reference tests are skipped`);
  });
});
