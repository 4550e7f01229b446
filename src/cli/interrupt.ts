// Ctrl-C / SIGTERM for long commands: the first signal asks the work to stop cleanly (an AbortSignal:
// train saves a checkpoint, infer writes the results so far), a second one exits at once.
import { EXIT } from './exit-codes.ts';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Remove the handlers (always call, in a finally). */
  dispose(): void;
}

/** Catch SIGINT and SIGTERM until disposed; `message` is printed on the first one. */
export function catchInterrupts(message: string): Interrupt {
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`\n${sig === 'SIGTERM' ? 'terminated' : 'interrupted'}: ${message} (${sig === 'SIGINT' ? 'Ctrl-C again' : 'again'} to quit at once)\n`);
    ac.abort();
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    signal: ac.signal,
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
