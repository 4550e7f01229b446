import { describe, expect, it } from 'vitest';
import { peopleFromChallengeResults, toChallengeResult } from './challenge-results.ts';
import { makePerson } from './test-people.ts';

describe('challenge results', () => {
  it('round-trips labels exactly and U, V to 1/255', async () => {
    const p = makePerson([4.5, 3, 20, 41], 0.77);
    const r = await toChallengeResult(p, 12);
    expect(r.uv_shape).toEqual([3, 41, 20]);
    const other = await toChallengeResult(makePerson([0, 0, 8, 8], 0.99), 13);
    const [back, ...rest] = await peopleFromChallengeResults(JSON.parse(JSON.stringify([r, other])), { imageId: 12 });
    expect(rest).toEqual([]);
    expect(back!.box).toEqual([4.5, 3, 20, 41]);
    expect(back!.score).toBe(0.77);
    expect(back!.densepose.labels).toEqual(p.densepose.labels);
    for (let i = 0; i < p.densepose.u.length; i++) {
      expect(Math.abs(back!.densepose.u[i]! - p.densepose.u[i]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      expect(Math.abs(back!.densepose.v[i]! - p.densepose.v[i]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    }
    expect(await peopleFromChallengeResults([r, other], { minScore: 0.9 })).toHaveLength(1);
  });
  it('names the detection when uv_data is broken', async () => {
    const r = await toChallengeResult(makePerson([0, 0, 8, 8], 1), 1);
    await expect(peopleFromChallengeResults([r, { ...r, uv_data: 'bm90IGEgcG5n' }], { where: 'res.json' })).rejects.toThrow(/res\.json: detection 1: "uv_data" is not a base64 PNG/);
    await expect(peopleFromChallengeResults([{ ...r, uv_shape: [3, 9, 8] }])).rejects.toThrow(/uv_shape" says 9×8/);
    await expect(peopleFromChallengeResults({})).rejects.toThrow(/JSON array/);
  });
});
