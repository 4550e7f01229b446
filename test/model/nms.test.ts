// batchedNms with a top-k cap (each group stops early) must equal the full result cut to k.
import { describe, expect, it } from 'vitest';
import { batchedNms } from '../../src/model/boxes.ts';

describe('batchedNms top-k early stop', () => {
  it('equals the full batched NMS cut to k, for every k, on random overlapping boxes in 5 groups', () => {
    let s = 11;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    const n = 600;
    const boxes = new Float32Array(4 * n);
    const scores = new Float32Array(n);
    const groups = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const x = rnd() * 200, y = rnd() * 200, w = 5 + rnd() * 60, h = 5 + rnd() * 60;
      boxes.set([x, y, x + w, y + h], 4 * i);
      // Coarse scores so ties across groups happen too.
      scores[i] = Math.round(rnd() * 50) / 50;
      groups[i] = Math.floor(rnd() * 5);
    }
    for (const t of [0.3, 0.7]) {
      const full = batchedNms(boxes, scores, groups, t);
      expect(full.length).toBeGreaterThan(50);
      for (const k of [0, 1, 7, 50, 100, full.length, full.length + 10]) expect(Array.from(batchedNms(boxes, scores, groups, t, k)), `t ${t} k ${k}`).toEqual(Array.from(full.subarray(0, k)));
    }
  });
});
