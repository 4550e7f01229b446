// The part legend: a swatch in PART_COLORS and the name of each of the 24 charts, as a panel
// beside a picture, so part colours can be read without the table in DESIGN.md.
import { createCanvas } from '@napi-rs/canvas';
import { imageFromCanvas, LABEL_FONT_FAMILY, putRgb } from './canvas.ts';
import { NUM_PARTS, partColor } from './colormap.ts';
import { validateImage } from './image.ts';
import { PART_NAMES } from './part-names.ts';
import type { RgbImage } from './types.ts';

export interface PartLegendOptions {
  /** Height the legend should fit; rows shrink to it down to `minFontSize`. @default 24 rows at `fontSize` */
  height?: number;
  /** Font size in pixels. @default 12 */
  fontSize?: number;
  /** Smallest font size when fitting `height`. @default 8 */
  minFontSize?: number;
  /** Columns of rows (24 / columns rows each). @default 2 */
  columns?: 1 | 2 | 3 | 4;
}

/** Geometry of a legend: where row `i` (part i + 1) sits, for drawing and for tests. */
export interface LegendLayout {
  width: number;
  height: number;
  fontSize: number;
  /** Swatch top-left corner and side, per part 1..24 (index part − 1). */
  swatches: { x: number; y: number; size: number }[];
}

/** Lay out the legend (no drawing). */
export function partLegendLayout(options: PartLegendOptions = {}): LegendLayout {
  const columns = options.columns ?? 2;
  const perColumn = Math.ceil(NUM_PARTS / columns);
  const pad = 4;
  let fontSize = options.fontSize ?? 12;
  if (options.height !== undefined) fontSize = Math.max(options.minFontSize ?? 8, Math.min(fontSize, Math.floor((options.height - 2 * pad) / perColumn / 1.4)));
  const rowH = Math.ceil(fontSize * 1.4);
  const size = Math.max(4, rowH - 3);
  const ctx = createCanvas(1, 1).getContext('2d');
  ctx.font = `${fontSize}px ${LABEL_FONT_FAMILY}`;
  const textW = Math.ceil(Math.max(...PART_NAMES.map((n, i) => ctx.measureText(`${i + 1} ${n}`).width)));
  const colW = size + 4 + textW + 8;
  const swatches = PART_NAMES.map((_, i) => ({ x: pad + Math.floor(i / perColumn) * colW, y: pad + (i % perColumn) * rowH + Math.floor((rowH - size) / 2), size }));
  return { width: 2 * pad + columns * colW, height: Math.max(options.height ?? 0, 2 * pad + perColumn * rowH), fontSize, swatches };
}

/** The legend as an image: white panel, per part a colour swatch and "I name". */
export function drawPartLegend(options: PartLegendOptions = {}): RgbImage {
  const layout = partLegendLayout(options);
  const canvas = createCanvas(layout.width, layout.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, layout.width, layout.height);
  ctx.font = `${layout.fontSize}px ${LABEL_FONT_FAMILY}`;
  ctx.textBaseline = 'middle';
  layout.swatches.forEach((s, i) => {
    const [r, g, b] = partColor(i + 1);
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fillRect(s.x, s.y, s.size, s.size);
    ctx.fillStyle = '#000000';
    ctx.fillText(`${i + 1} ${PART_NAMES[i]}`, s.x + s.size + 4, s.y + s.size / 2);
  });
  return imageFromCanvas(ctx, layout.width, layout.height);
}

/** `image` with the part legend to its right (fitted to the image's height; taller images are padded white). */
export function withPartLegend(image: RgbImage, options: Omit<PartLegendOptions, 'height'> = {}): RgbImage {
  validateImage(image);
  const legend = drawPartLegend({ ...options, height: image.height });
  // Even sizes whenever the image's are, so overlay videos (yuv420p) take the picture as it is.
  const even = (n: number, like: number) => (like % 2 === 0 && n % 2 === 1 ? n + 1 : n);
  const width = even(image.width + legend.width, image.width);
  const height = even(Math.max(image.height, legend.height), image.height);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  putRgb(ctx, image, 0, 0);
  putRgb(ctx, legend, image.width, 0);
  return imageFromCanvas(ctx, width, height);
}
