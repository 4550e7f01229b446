import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DensePoseError } from '../../errors.ts';

/** The benchmarks live in `bench/` of a source checkout (TypeScript run by tsx); the npm package does not ship them. */
const BENCH_MAIN = fileURLToPath(new URL('../../../bench/main.ts', import.meta.url));

/** `densepose bench <name>`: the same benchmarks as `npm run bench -- <name>`. */
export async function benchCommand(argv: string[]): Promise<number> {
  if (!existsSync(BENCH_MAIN)) {
    throw new DensePoseError('UNSUPPORTED', 'the benchmarks run from a source checkout of densepose-ts (npm run bench -- <name>); this installed package does not include bench/', { where: BENCH_MAIN });
  }
  const { runBench } = (await import(pathToFileURL(BENCH_MAIN).href)) as { runBench: (argv: string[]) => Promise<number> };
  return runBench(argv);
}
