import { BENCHES, runBench } from '../../../bench/main.ts';
import { formatHelp, wantsHelp, type CommandSpec } from '../command-spec.ts';

export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  usage: [`bench <${BENCHES.join('|')}|all> [bench options]`],
  description: `Benchmarks (the same as "npm run bench -- <name>"); each prints its table with ratios against a
peer measured in the same run. "all" runs every one (long). Benchmarks:
${BENCHES.map((b) => `  ${b}`).join('\n')}`,
  options: [],
};

/** `densepose bench <name>`: the same benchmarks as `npm run bench -- <name>`; bare, it lists them. */
export async function benchCommand(argv: string[]): Promise<number> {
  if (argv.length === 0 || wantsHelp(argv.slice(0, 1))) {
    console.log(formatHelp(BENCH_SPEC));
    return 0;
  }
  return runBench(argv);
}
