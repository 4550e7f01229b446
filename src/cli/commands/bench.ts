import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DensePoseError } from '../../errors.ts';
import { formatHelp, wantsHelp, type CommandSpec } from '../command-spec.ts';

/** The benchmarks live in `bench/` of a source checkout (TypeScript run by tsx); the npm package does not ship them. */
const BENCH_MAIN = fileURLToPath(new URL('../../../bench/main.ts', import.meta.url));

type BenchModule = { runBench: (argv: string[]) => Promise<number>; BENCHES: readonly string[] };

export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  usage: ['bench <name>|all [bench options]'],
  description: `Benchmarks (the same as "npm run bench -- <name>"); each prints its table with ratios against a
peer measured in the same run. "all" runs every one (long). They run from a source checkout.`,
  options: [],
};

async function benchModule(): Promise<BenchModule> {
  if (!existsSync(BENCH_MAIN)) {
    throw new DensePoseError('UNSUPPORTED', 'the benchmarks run from a source checkout of densepose-ts (npm run bench -- <name>); this installed package does not include bench/', { where: BENCH_MAIN });
  }
  return (await import(pathToFileURL(BENCH_MAIN).href)) as BenchModule;
}

/** `densepose bench <name>`: the same benchmarks as `npm run bench -- <name>`; bare (or --help), it lists them. */
export async function benchCommand(argv: string[]): Promise<number> {
  if (argv.length === 0 || wantsHelp(argv.slice(0, 1))) {
    const list = existsSync(BENCH_MAIN) ? `\n\nBenchmarks:\n${(await benchModule()).BENCHES.map((b) => `  ${b}`).join('\n')}` : '\n\n(bench/ is not in this installed package)';
    console.log(`${formatHelp(BENCH_SPEC)}${list}`);
    return 0;
  }
  return (await benchModule()).runBench(argv);
}
