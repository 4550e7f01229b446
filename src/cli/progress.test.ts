import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, fitToWidth } from './progress.ts';

/** A fake stream that records writes; `columns`/`isTTY` as a terminal or a pipe would report them. */
function sink(tty: boolean, columns?: number): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY: tty, columns });
  return { stream: w, text: () => chunks.join('') };
}

describe('progress', () => {
  it('on a terminal, every redraw fits the terminal width', () => {
    const s = sink(true, 60);
    const p = createProgress(10, 'train', { stream: s.stream, intervalMs: 0 });
    for (let i = 0; i < 10; i++) p.tick(1, `loss 1.234 | ${'rpn_cls 0.123 '.repeat(12)}`);
    p.done();
    const lines = s.text().split('\r\u001b[2K').flatMap((l) => l.split('\n')).filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(59);
    expect(lines.at(-1)).toMatch(/…$/);
  });

  it('without a terminal: one plain line every logEvery ticks and at the end, no bar glyphs', () => {
    const s = sink(false);
    const p = createProgress(45, 'train', { stream: s.stream, logEvery: 20 });
    for (let i = 0; i < 45; i++) p.tick(1, `loss ${i}`);
    p.done();
    const lines = s.text().trim().split('\n');
    expect(lines.map((l) => /(\d+)\/45/.exec(l)?.[1])).toEqual(['20', '40', '45']);
    expect(lines[0]).toContain('loss 19');
    expect(s.text()).not.toMatch(/[█░\r]/);
  });

  it('without a terminal and no logEvery it stays quiet', () => {
    const s = sink(false);
    const p = createProgress(5, 'x', { stream: s.stream });
    for (let i = 0; i < 5; i++) p.tick();
    p.done();
    expect(s.text()).toBe('');
    expect(fitToWidth('abc', 80)).toBe('abc');
  });
});
