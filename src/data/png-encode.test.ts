import { inflateRawSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { deflateFixed, encodePngSync, toBase64, zlibStream } from './png-encode.ts';

/** An IUV-like image: background zeros, part blocks, smooth U/V ramps, some noise. */
function iuvLike(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 3 * (y * w + x);
      if (x < w / 4) continue;
      out[o] = 1 + ((x >> 3) % 24);
      out[o + 1] = (x * 7) & 0xff;
      out[o + 2] = y % 3 === 0 ? rand() : (y * 5) & 0xff;
    }
  }
  return out;
}

describe('encodePngSync', () => {
  it('our deflate inflates back to the input (zlib as the reference decoder)', () => {
    const cases = [new Uint8Array(0), Uint8Array.of(7), new Uint8Array(70_000).fill(3), iuvLike(97, 61, 1), Uint8Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24)];
    for (const c of cases) {
      expect(new Uint8Array(inflateRawSync(deflateFixed(c)))).toEqual(c);
      expect(new Uint8Array(inflateSync(zlibStream(c)))).toEqual(c);
    }
    // runs compress: a 70 kB constant buffer becomes ~270 matches of 258 bytes (< 1 kB)
    expect(deflateFixed(new Uint8Array(70_000)).length).toBeLessThan(1000);
  });

  for (const portableDeflate of [false, true]) {
    it(`writes PNGs that decode to the same pixels (${portableDeflate ? 'own deflate' : 'Node zlib'})`, async () => {
      for (const [w, h, ch] of [[1, 1, 3], [97, 61, 3], [20, 33, 4]] as const) {
        const px = ch === 3 ? iuvLike(w, h, w) : Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 31) & 0xff);
        const png = encodePngSync(px, w, h, ch, { portableDeflate });
        const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height, info.channels]).toEqual([w, h, ch]);
        expect(new Uint8Array(data)).toEqual(px);
      }
    });
  }

  it('rejects sizes that do not match the data', () => {
    expect(() => encodePngSync(new Uint8Array(5), 2, 1, 3)).toThrow(/5 bytes for 2×1×3/);
    expect(() => encodePngSync(new Uint8Array(0), 0, 1, 3)).toThrow(/positive integers/);
  });

  it('toBase64 equals Buffer base64 across its chunk boundary', () => {
    const b = Uint8Array.from({ length: 0x8000 * 2 + 5 }, (_, i) => (i * 13) & 0xff);
    expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'));
    expect(toBase64(new Uint8Array(0))).toBe('');
  });
});
