import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { curvesData, curvesSvg, plotCurves, type CurvesRow } from './plot-curves.ts';

const rows: CurvesRow[] = [];
for (let it = 0; it <= 200; it += 10) {
  rows.push({ iteration: it, losses: { loss_densepose_I: 3 * Math.exp(-it / 60), loss_densepose_U: 0.5 * Math.exp(-it / 90), loss_cls: 0 }, totalLoss: 4 * Math.exp(-it / 70) });
  if (it % 50 === 0) rows.push({ iteration: it, val: { bboxAP: it / 400, gpsAP: it / 600 } });
}

describe('plotCurves', () => {
  it('long-form data drops non-positive losses (log axis) and keeps scores', () => {
    const { losses, scores } = curvesData(rows);
    expect(losses.some((l) => l.term === 'loss_cls')).toBe(false);
    expect(losses.filter((l) => l.term === 'total')).toHaveLength(21);
    expect(scores).toHaveLength(10);
  });
  it('renders both charts to SVG with a log loss axis and titles', async () => {
    const svg = await curvesSvg(rows);
    expect(svg).toContain('training losses');
    expect(svg).toContain('validation');
    expect(svg).toContain('loss_densepose_I');
    expect(svg).toContain('gpsAP');
    await expect(curvesSvg([{ iteration: 1 }])).rejects.toThrow(/no finite losses/);
  });
  it('writes a PNG with ink on it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'curves-')), 'curves.png');
    await plotCurves(rows, out, { width: 200, height: 100, scale: 1 });
    const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBeGreaterThan(200);
    expect(info.height).toBeGreaterThan(200);
    let dark = 0;
    for (let i = 0; i < data.length; i += 3) if (data[i]! < 128) dark++;
    expect(dark).toBeGreaterThan(100);
  });
});
