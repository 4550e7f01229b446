import { initBackend, BACKENDS } from '../../runtime/backend.ts';
import { optChoice } from '../args.ts';
import { parseCommand, type CommandSpec } from '../command-spec.ts';

export const BACKEND_SPEC: CommandSpec = {
  name: 'backend',
  usage: ['backend [--backend wasm|cpu|tensorflow] [--json]'],
  description: 'Starts a tfjs backend and reports which one runs, with how many threads and whether SIMD is on.',
  options: [
    { name: 'backend', value: 'B', help: BACKENDS.join(' | '), default: 'wasm (or $DENSEPOSE_BACKEND)' },
    { name: 'json', help: 'print the report as JSON' },
  ],
};

/** `densepose backend [--backend wasm|cpu|tensorflow]`: which backend runs, with how many threads. */
export async function backendCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, BACKEND_SPEC);
  if (!args) return 0;
  const report = await initBackend({ backend: optChoice(args, 'backend', BACKENDS) });
  if (args.options.has('json')) console.log(JSON.stringify(report));
  else console.log(`backend ${report.backend}, threads ${report.threads}, simd ${report.simd ?? 'n/a'} (available: ${BACKENDS.join(', ')})`);
  return 0;
}
