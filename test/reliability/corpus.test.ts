// Runs the hostile-input corpus (cases.ts): every case through the CLI's error boundary in-process
// (`main(argv)`) or the library, asserting the exit code, the `[CODE]`, that the message names the
// file/option and the problem, and that no stack trace is printed. A tally by category is printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { DensePoseError } from '../../src/errors.ts';
import { buildCases } from './cases.ts';
import { buildFixtures, CATEGORIES, expectedExit, type Case, type Fixtures } from './corpus.ts';

/** A line of a V8 stack trace. */
const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

/** Run the CLI in-process, capturing everything it prints. */
async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' '))),
    vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void err.push(a.join(' '))),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' '))),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true)),
  ];
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

function mustSay(text: string, says: Case['says']): void {
  for (const s of says) {
    if (typeof s === 'string') expect(text).toContain(s);
    else expect(text).toMatch(s);
  }
}

const tally = new Map<string, { pass: number; fail: number }>();
// Built before the tests are collected: the case list is the corpus.
const dir = mkdtempSync(join(tmpdir(), 'dp-corpus-'));
const f: Fixtures = await buildFixtures(dir);
let cases: Case[];
try {
  cases = buildCases(f);
} catch (e) {
  // unmount the tiny disk even when the corpus cannot be built, or the temp folder cannot be removed
  await f.cleanup();
  throw e;
}

beforeAll(() => {
  for (const c of CATEGORIES) tally.set(c, { pass: 0, fail: 0 });
});
afterAll(async () => {
  const rows = [...tally].filter(([, t]) => t.pass + t.fail > 0).map(([c, t]) => `  ${c.padEnd(14)} ${t.pass} pass, ${t.fail} fail`);
  const total = [...tally.values()].reduce((a, t) => ({ pass: a.pass + t.pass, fail: a.fail + t.fail }), { pass: 0, fail: 0 });
  console.log(`hostile-input corpus: ${cases.length} cases, ${total.pass} pass, ${total.fail} fail\n${rows.join('\n')}`);
  await f.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile-input corpus', () => {
  it('has at least 150 cases covering every category', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    for (const c of CATEGORIES) expect(cases.some((k) => k.category === c)).toBe(true);
    expect(new Set(cases.map((c) => `${c.category}: ${c.name}`)).size).toBe(cases.length);
  });

  for (const c of cases) {
    it(`${c.category}: ${c.name}`, { timeout: c.timeout ?? 90_000 }, async () => {
      const t = tally.get(c.category)!;
      t.fail++;
      await c.before?.();
      if (c.argv) {
        const r = await runCli(c.argv);
        const all = `${r.err}\n${r.out}`;
        expect(r.code, all).toBe(expectedExit(c));
        expect(all).not.toMatch(STACK_LINE);
        expect(all).not.toContain('internal error');
        if (c.code !== 'OK') {
          const line = r.err.split('\n').find((l) => l.endsWith(`[${c.code}]`) || l.includes(`[${c.code}] (`));
          expect(line, `no error line with [${c.code}] in:\n${r.err}`).toBeDefined();
          expect(line!.startsWith(`densepose ${c.argv[0]}:`) || line!.startsWith('densepose:')).toBe(true);
          // the prefix is never repeated
          expect(line!.indexOf(`densepose ${c.argv[0]}:`, 1)).toBe(-1);
          mustSay(line!, c.says);
        } else {
          mustSay(all, c.says);
        }
      } else {
        let thrown: unknown;
        try {
          await c.call!();
        } catch (e) {
          thrown = e;
        }
        expect(thrown, 'expected a DensePoseError').toBeInstanceOf(DensePoseError);
        const e = thrown as DensePoseError;
        expect(e.code, e.message).toBe(c.code);
        mustSay(e.message, c.says);
      }
      c.after?.();
      t.fail--;
      t.pass++;
    });
  }
});
