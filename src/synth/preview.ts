// A contact sheet for looking at the data: one row per image, RGB | I coloured | U | V.
import { createCanvas } from '@napi-rs/canvas';
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

/** Column titles of the contact sheet, left to right. */
export const CONTACT_SHEET_TITLES = ['image', 'I: part (1..24)', 'U (0 blue → 1 yellow)', 'V (0 blue → 1 yellow)'] as const;

/** Height of the title strip above the sheet in {@link writeContactSheet}, pixels. */
export const CONTACT_SHEET_TITLE_HEIGHT = 22;

/** Write {@link contactSheet} as a PNG, under a white strip with each column's title. */
export async function writeContactSheet(path: string, scenes: readonly RenderedScene[]): Promise<void> {
  const s = contactSheet(scenes);
  const th = CONTACT_SHEET_TITLE_HEIGHT;
  const canvas = createCanvas(s.width, s.height + th);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, s.width, th);
  const img = ctx.createImageData(s.width, s.height);
  for (let i = 0; i < s.width * s.height; i++) {
    img.data[4 * i] = s.rgb[3 * i]!;
    img.data[4 * i + 1] = s.rgb[3 * i + 1]!;
    img.data[4 * i + 2] = s.rgb[3 * i + 2]!;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, th);
  const col = s.width / 4;
  ctx.font = `${Math.max(9, Math.min(14, Math.floor(col / 12)))}px DejaVu Sans, Arial, sans-serif`;
  ctx.fillStyle = '#000000';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  CONTACT_SHEET_TITLES.forEach((t, k) => ctx.fillText(t, col * (k + 0.5), th / 2, col - 4));
  await writeFileAtomic(path, await sharp(canvas.toBuffer('image/png')).png().toBuffer());
}
