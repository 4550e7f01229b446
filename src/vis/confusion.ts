// A part confusion matrix as a picture: rows = ground-truth part, columns = predicted part (and
// background), each cell shaded by its share of the row, with its percentage and the parts named.
import { createCanvas } from '@napi-rs/canvas';
import { imageFromCanvas, LABEL_FONT_FAMILY } from './canvas.ts';
import { parula } from './colormap.ts';
import { savePng } from './png.ts';
import type { RgbImage } from './types.ts';

export interface ConfusionImageOptions {
  /** Title line above the matrix. @default 'DensePose part confusion at the GT points' */
  title?: string;
  /** Cell size in pixels. @default 28 */
  cell?: number;
}

/**
 * Draw a `[n·m]` count matrix (`rows` × `cols` labels, row-major). Shares are per row; empty rows
 * are grey. Returns an RGB image.
 */
export function drawConfusion(counts: ArrayLike<number>, rows: readonly string[], cols: readonly string[], options: ConfusionImageOptions = {}): RgbImage {
  const cell = options.cell ?? 28;
  const left = 170, top = 190, pad = 12;
  const width = left + cols.length * cell + pad + 60;
  const height = top + rows.length * cell + pad;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#000000';
  ctx.font = `bold 15px ${LABEL_FONT_FAMILY}`;
  ctx.textBaseline = 'top';
  ctx.fillText(options.title ?? 'DensePose part confusion at the GT points', pad, pad);
  ctx.font = `12px ${LABEL_FONT_FAMILY}`;
  ctx.fillText('rows: ground truth, columns: prediction; share of each row', pad, pad + 20);
  ctx.font = `11px ${LABEL_FONT_FAMILY}`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  rows.forEach((name, r) => ctx.fillText(name, left - 6, top + r * cell + cell / 2));
  cols.forEach((name, c) => {
    ctx.save();
    ctx.translate(left + c * cell + cell / 2, top - 6);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'left';
    ctx.fillText(name, 0, 0);
    ctx.restore();
  });
  ctx.textAlign = 'center';
  ctx.font = `9px ${LABEL_FONT_FAMILY}`;
  for (let r = 0; r < rows.length; r++) {
    let sum = 0;
    for (let c = 0; c < cols.length; c++) sum += counts[r * cols.length + c]!;
    for (let c = 0; c < cols.length; c++) {
      const n = counts[r * cols.length + c]!;
      const share = sum > 0 ? n / sum : 0;
      const [cr, cg, cb] = sum === 0 ? [220, 220, 220] : n === 0 ? [255, 255, 255] : parula(share);
      ctx.fillStyle = `rgb(${cr},${cg},${cb})`;
      ctx.fillRect(left + c * cell, top + r * cell, cell, cell);
      if (n > 0) {
        ctx.fillStyle = share > 0.6 ? '#000000' : '#ffffff';
        ctx.fillText(share >= 0.995 ? '100' : (100 * share).toFixed(0), left + c * cell + cell / 2, top + r * cell + cell / 2);
      }
    }
  }
  // grid and the diagonal outlined (correct predictions)
  ctx.strokeStyle = '#bbbbbb';
  ctx.lineWidth = 1;
  for (let r = 0; r <= rows.length; r++) {
    ctx.beginPath();
    ctx.moveTo(left, top + r * cell + 0.5);
    ctx.lineTo(left + cols.length * cell, top + r * cell + 0.5);
    ctx.stroke();
  }
  for (let c = 0; c <= cols.length; c++) {
    ctx.beginPath();
    ctx.moveTo(left + c * cell + 0.5, top);
    ctx.lineTo(left + c * cell + 0.5, top + rows.length * cell);
    ctx.stroke();
  }
  ctx.strokeStyle = '#d62728';
  ctx.lineWidth = 2;
  for (let r = 0; r < Math.min(rows.length, cols.length); r++) ctx.strokeRect(left + r * cell + 1, top + r * cell + 1, cell - 2, cell - 2);
  return imageFromCanvas(ctx, width, height);
}

/** {@link drawConfusion} written as a PNG (atomically). */
export async function saveConfusionPng(path: string, counts: ArrayLike<number>, rows: readonly string[], cols: readonly string[], options: ConfusionImageOptions = {}): Promise<void> {
  await savePng(path, drawConfusion(counts, rows, cols, options));
}
