import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { modelsCommand } from '../../src/cli/commands/models.ts';

describe('densepose models', () => {
  const cache = mkdtempSync(join(tmpdir(), 'dp-zoo-cli-'));
  const saved = { ...process.env };
  beforeAll(() => {
    process.env['DENSEPOSE_CACHE'] = cache;
    delete process.env['DENSEPOSE_ZOO_INDEX'];
  });
  afterAll(() => {
    delete process.env['DENSEPOSE_CACHE'];
    Object.assign(process.env, saved);
    rmSync(cache, { recursive: true, force: true });
  });
  const capture = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
    const error = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
    try {
      return { rc: await modelsCommand(argv), out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };

  it('list: every zoo model with its reported AP, the cache and the licence', async () => {
    const r = await capture(['list']);
    expect(r.rc).toBe(0);
    expect(r.out).toMatch(/R_50_FPN_s1x\s+61\.2\s+63\.7\s+65\.3\s+-/);
    expect(r.out).toContain('CC BY-SA 3.0');
    expect(r.out).toContain(join(cache, 'zoo'));
    const j = JSON.parse((await capture(['list', '--json'])).out) as { models: { name: string; cached: string | null }[] };
    expect(j.models).toHaveLength(22);
    expect(j.models.every((m) => m.cached === null)).toBe(true);
  });

  it('path of a model not cached exits 1; rm says it was not cached; unknown names and actions are errors', async () => {
    const p = await capture(['path', 'R_50_FPN_s1x']);
    expect(p.rc).toBe(1);
    expect(p.err).toContain('not cached');
    expect((await capture(['rm', 'R_50_FPN_s1x'])).out).toBe('R_50_FPN_s1x was not cached');
    await expect(modelsCommand(['path', 'R_50_FPN_s2x'])).rejects.toThrow(/Unknown model "R_50_FPN_s2x"/);
    await expect(modelsCommand(['fetch', 'x'])).rejects.toThrow(/unknown action "fetch"/);
  });

  it('pull offline names what is missing', async () => {
    process.env['DENSEPOSE_OFFLINE'] = '1';
    try {
      await expect(modelsCommand(['pull', 'R_101_FPN_DL_WC2M_s1x'])).rejects.toThrow(/model "R_101_FPN_DL_WC2M_s1x" is not in the cache .* forbids downloading it from https:\/\/dl\.fbaipublicfiles\.com\/densepose\/densepose_rcnn_R_101_FPN_DL_WC2M_s1x\/216245790\/model_final_de6e7a\.pkl/);
    } finally {
      delete process.env['DENSEPOSE_OFFLINE'];
    }
  });
});
