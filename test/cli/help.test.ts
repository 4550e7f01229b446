// Every command answers --help with exit 0 and lists every option its parser accepts (the list is
// read from the command's own CommandSpec, the same one its parser uses, so neither can drift).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../../src/cli/command-spec.ts';

const BIN = 'bin/densepose.js';

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Command names as `densepose --help` lists them. */
function listedCommands(): string[] {
  const { out } = cli('--help');
  const block = out.split('Commands:\n')[1]!.split('\n\n')[0]!;
  return block.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
}

function isSpec(x: unknown): x is CommandSpec {
  return typeof x === 'object' && x !== null && typeof (x as CommandSpec).name === 'string' && Array.isArray((x as CommandSpec).options);
}

/** Every CommandSpec a command's module exports (a command with sub-commands exports several). */
async function specsOf(name: string): Promise<CommandSpec[]> {
  const mod = (await import(`../../src/cli/commands/${name}.ts`)) as Record<string, unknown>;
  return Object.values(mod).filter(isSpec);
}

describe('densepose --help', () => {
  const commands = listedCommands();

  it('lists the commands and exits 0; --version prints the package version', () => {
    expect(commands).toEqual(expect.arrayContaining(['synth', 'train', 'distill', 'eval', 'infer', 'texture', 'convert', 'bench', 'demo', 'backend']));
    expect(cli('--help').code).toBe(0);
    const v = cli('--version');
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(`densepose-ts ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}`);
  });

  it.each(listedCommands())('densepose %s --help: exit 0, every option and its default listed', async (name) => {
    const specs = await specsOf(name);
    expect(specs.length, `src/cli/commands/${name}.ts exports its CommandSpec`).toBeGreaterThan(0);
    for (const spec of specs) {
      const r = cli(...spec.name.split(' '), '--help');
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: densepose ${spec.name}`));
      for (const o of spec.options) {
        const line = r.out.split('\n').find((l) => l.trimStart().startsWith(`--${o.name}${o.value ? ` ${o.value}` : ''}`));
        expect(line, `--${o.name} in "densepose ${spec.name} --help"`).toBeDefined();
        if (o.default !== undefined) expect(r.out).toContain(`(default ${o.default})`);
      }
      // The help speaks flags, not option names of the library API (mentioning the library is fine).
      expect(r.out).not.toMatch(/scoreThreshold|force: true|createDensePose\(\{ model, config \}\)/);
    }
  }, 120_000);

  it('bare "densepose bench" lists the benchmarks instead of running them', async () => {
    const { BENCHES } = await import('../../bench/main.ts');
    const r = cli('bench');
    expect(r.code).toBe(0);
    for (const b of BENCHES) expect(r.out).toContain(`  ${b}\n`);
    expect(r.out).not.toContain('## bench');
  });

  it('infer --help states the bundled model\'s real test sizes', () => {
    const cfg = JSON.parse(readFileSync('configs/densepose_rcnn_R_18_cpu_tiny.json', 'utf8')) as { input: { minSizeTest: number; maxSizeTest: number } };
    const { out } = cli('infer', '--help');
    expect(out).toContain(`bundled model ${cfg.input.minSizeTest}`);
    expect(out).toContain(`bundled model ${cfg.input.maxSizeTest}`);
  });
});
