import { initBackend, BACKENDS } from '../../runtime/backend.ts';
import { parseArgs, optChoice } from '../args.ts';

/** `densepose backend [--backend wasm|cpu|tensorflow]`: which backend runs, with how many threads. */
export async function backendCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ['backend'], flags: ['json'] }, 'backend');
  const report = await initBackend({ backend: optChoice(args, 'backend', BACKENDS) });
  if (args.options.has('json')) console.log(JSON.stringify(report));
  else console.log(`backend ${report.backend}, threads ${report.threads}, simd ${report.simd ?? 'n/a'} (available: ${BACKENDS.join(', ')})`);
  return 0;
}
