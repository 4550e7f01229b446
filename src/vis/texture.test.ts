import { describe, expect, it } from 'vitest';
import { atlasTileOrigin, atlasTileSize, extractAtlas, paintAtlas } from './texture.ts';
import { makeImage, makePerson } from './test-people.ts';
import type { AtlasImage, DensePosePerson } from './types.ts';

/** A random opaque RGB atlas of tile size n (no pure-black texels, which an RGB atlas treats as transparent). */
function randomAtlas(n: number, seed: number): AtlasImage {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  const data = new Uint8Array(4 * n * 6 * n * 3);
  for (let i = 0; i < data.length; i++) data[i] = 1 + (next() % 255);
  return { width: 4 * n, height: 6 * n, channels: 3, data };
}

describe('atlas layout', () => {
  it('part I sits in column floor((I−1)/6), row (I−1) mod 6 (detectron2 / DensePose notebook)', () => {
    expect(atlasTileOrigin(1, 200)).toEqual([0, 0]);
    expect(atlasTileOrigin(2, 200)).toEqual([0, 200]);
    expect(atlasTileOrigin(6, 200)).toEqual([0, 1000]);
    expect(atlasTileOrigin(7, 200)).toEqual([200, 0]);
    expect(atlasTileOrigin(24, 200)).toEqual([600, 1000]);
    expect(atlasTileSize({ width: 800, height: 1200, channels: 3, data: new Uint8Array(800 * 1200 * 3) })).toBe(200);
    expect(() => atlasTileSize({ width: 1200, height: 800, channels: 3, data: new Uint8Array(1200 * 800 * 3) })).toThrow(/4N wide and 6N tall/);
  });
  it('U runs along x and 1 − V along y inside the tile', () => {
    const n = 10;
    const atlas: AtlasImage = { width: 40, height: 60, channels: 3, data: new Uint8Array(40 * 60 * 3) };
    // Mark texel (x = 9, y = 0) of part 8's tile (column 1, row 1): U = 1, V = 1.
    const [ox, oy] = atlasTileOrigin(8, n);
    atlas.data.set([200, 100, 50], 3 * (oy * 40 + ox + 9));
    const person: DensePosePerson = { box: [0, 0, 2, 1], score: 1, densepose: { width: 2, height: 1, labels: Uint8Array.of(8, 8), u: Float32Array.of(1, 0), v: Float32Array.of(1, 1) } };
    const out = paintAtlas({ width: 2, height: 1, data: new Uint8Array(6).fill(7) }, [person], atlas);
    expect([...out.data]).toEqual([200, 100, 50, 7, 7, 7]); // (U=0, V=1) hits a black, i.e. transparent, texel
  });
});

describe('paintAtlas ∘ extractAtlas', () => {
  it('recovers the atlas colours on every covered texel', () => {
    const n = 16;
    const atlas = randomAtlas(n, 7);
    const people = [makePerson([3, 2, 40, 90], 0.9), makePerson([50, 5, 36, 84], 0.8)];
    const painted = paintAtlas(makeImage(96, 100), people, atlas);
    for (const person of people) {
      const got = extractAtlas(painted, person, { tileSize: n, fill: 0 });
      expect([got.width, got.height, got.channels]).toEqual([4 * n, 6 * n, 4]);
      let covered = 0;
      for (let t = 0; t < got.width * got.height; t++) {
        if (got.data[4 * t + 3] === 0) continue;
        covered++;
        expect([...got.data.subarray(4 * t, 4 * t + 3)]).toEqual([...atlas.data.subarray(3 * t, 3 * t + 3)]);
      }
      expect(covered).toBeGreaterThan(200);
    }
  });
  it('fill: holes near seen texels take their neighbours\' mean, within the tile only; seen texels keep their colour', () => {
    const person = makePerson([0, 0, 30, 60], 1);
    const src = makeImage(30, 60);
    const n = 64; // far more texels than the person has pixels: scattered dots
    const seen = extractAtlas(src, person, { tileSize: n, fill: 0 });
    const filled = extractAtlas(src, person, { tileSize: n, fill: 3 });
    const opaque = (a: typeof seen) => { let k = 0; for (let t = 0; t < a.width * a.height; t++) if (a.data[4 * t + 3]) k++; return k; };
    expect(opaque(filled)).toBeGreaterThan(3 * opaque(seen));
    for (let t = 0; t < seen.width * seen.height; t++) {
      if (seen.data[4 * t + 3]) expect([...filled.data.subarray(4 * t, 4 * t + 4)]).toEqual([...seen.data.subarray(4 * t, 4 * t + 4)]);
      else if (filled.data[4 * t + 3]) {
        // A filled texel lies within 3 texels of a seen one of the same tile.
        const x = t % seen.width, y = Math.floor(t / seen.width);
        let near = false;
        for (let dy = -3; dy <= 3 && !near; dy++) for (let dx = -3; dx <= 3 && !near; dx++) {
          const xx = x + dx, yy = y + dy;
          if (Math.floor(xx / n) !== Math.floor(x / n) || Math.floor(yy / n) !== Math.floor(y / n) || xx < 0 || yy < 0) continue;
          if (seen.data[4 * (yy * seen.width + xx) + 3]) near = true;
        }
        expect(near).toBe(true);
      }
    }
    // Tiles of parts the person does not have stay empty.
    const [ox, oy] = atlasTileOrigin(1, n); // torso back: not in the test person
    for (let y = oy; y < oy + n; y++) for (let x = ox; x < ox + n; x++) expect(filled.data[4 * (y * filled.width + x) + 3]).toBe(0);
  });
  it('an extracted RGBA atlas paints only where it has coverage', () => {
    const person = makePerson([0, 0, 30, 60], 1);
    const src = makeImage(30, 60);
    const atlas = extractAtlas(src, person, { tileSize: 8 });
    const blank = { width: 30, height: 60, data: new Uint8Array(30 * 60 * 3) };
    const out = paintAtlas(blank, [person], atlas);
    // Every foreground pixel maps to a texel it helped cover, so every one is painted (non-black source colours).
    for (let k = 0; k < 30 * 60; k++) {
      const fg = person.densepose.labels[k]! > 0;
      const lit = out.data[3 * k]! + out.data[3 * k + 1]! + out.data[3 * k + 2]! > 0;
      expect(lit).toBe(fg);
    }
  });
  it('parts option leaves other parts untouched', () => {
    const person = makePerson([0, 0, 30, 60], 1);
    const img = makeImage(30, 60);
    const out = paintAtlas(img, [person], randomAtlas(8, 3), { parts: [2] });
    for (let k = 0; k < 30 * 60; k++) {
      if (person.densepose.labels[k] !== 2) expect([...out.data.subarray(3 * k, 3 * k + 3)]).toEqual([...img.data.subarray(3 * k, 3 * k + 3)]);
    }
    expect(() => paintAtlas(img, [person], randomAtlas(8, 3), { parts: [25] })).toThrow(/1\.\.24/);
  });
});
