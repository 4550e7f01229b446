import { runBench } from '../../../bench/main.ts';

/** `densepose bench <name>`: the same benchmarks as `npm run bench -- <name>`. */
export async function benchCommand(argv: string[]): Promise<number> {
  return runBench(argv);
}
