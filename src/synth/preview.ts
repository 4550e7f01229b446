// A contact sheet for looking at the data: one row per image, RGB | I coloured | U | V.
import sharp from 'sharp';
import { writeFileAtomic } from '../io.ts';
import { PART_COLOURS, rampColour } from './colors.ts';
import type { RenderedScene } from './scene.ts';

/** `[rows·H, 4·W, 3]` RGB contact sheet of `scenes` (all the same size). */
export function contactSheet(scenes: readonly RenderedScene[]): { width: number; height: number; rgb: Uint8Array } {
  const W = scenes[0]!.width, H = scenes[0]!.height;
  const SW = 4 * W, SH = H * scenes.length;
  const rgb = new Uint8Array(SW * SH * 3);
  scenes.forEach((s, r) => {
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const p = y * W + x, row = (r * H + y) * SW;
      const I = s.partIndex[p]!;
      rgb.set(s.rgb.subarray(3 * p, 3 * p + 3), 3 * (row + x));
      rgb.set(PART_COLOURS.subarray(3 * I, 3 * I + 3), 3 * (row + W + x));
      if (I > 0) {
        rampColour(s.u[p]!, rgb, 3 * (row + 2 * W + x));
        rampColour(s.v[p]!, rgb, 3 * (row + 3 * W + x));
      }
    }
  });
  return { width: SW, height: SH, rgb };
}

/** Write {@link contactSheet} as a PNG. */
export async function writeContactSheet(path: string, scenes: readonly RenderedScene[]): Promise<void> {
  const s = contactSheet(scenes);
  await writeFileAtomic(path, await sharp(s.rgb, { raw: { width: s.width, height: s.height, channels: 3 } }).png().toBuffer());
}
