import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';
import { join, dirname } from 'node:path';

/** Benchmarks by name; each module exports `run(args)` and prints its table with ratios against a baseline from the same run. */
export const BENCHES = ['ops', 'synth', 'eval', 'detector', 'heads', 'train', 'infer', 'onnx', 'checkpoint', 'load', 'tfjs-memory'] as const;

const here = dirname(fileURLToPath(import.meta.url));

export async function runBench(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const wanted = name === undefined || name === 'all' ? BENCHES.filter((b) => existsSync(join(here, `${b}.ts`))) : [name];
  for (const b of wanted) {
    if (!(BENCHES as readonly string[]).includes(b)) {
      console.error(`Unknown benchmark "${b}". Expected one of: ${BENCHES.join(', ')}, all.`);
      return 2;
    }
    const file = join(here, `${b}.ts`);
    if (!existsSync(file)) {
      console.error(`benchmark "${b}" is not available in this build (${file} missing)`);
      return 2;
    }
    console.log(`\n## bench ${b}`);
    const mod = (await import(pathToFileURL(file).href)) as { run: (args: string[]) => Promise<void> };
    await mod.run(rest);
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runBench(process.argv.slice(2));
}
