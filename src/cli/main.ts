import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { didYouMean } from '../errors.ts';
import { asDensePoseError, EXIT, exitCodeFor } from './exit-codes.ts';

/** Each subcommand lives in its own module, loaded only when asked for (keeps `--help` instant). */
const COMMANDS = {
  synth: { about: 'render a synthetic COCO-DensePose data set', load: async () => (await import('./commands/synth.ts')).synthCommand },
  train: { about: 'train a detector + DensePose head', load: async () => (await import('./commands/train.ts')).trainCommand },
  distill: { about: 'label images with a teacher (data distillation); `distill merge` joins shards', load: async () => (await import('./commands/distill.ts')).distillCommand },
  eval: { about: 'score results against COCO-DensePose ground truth (bbox, segm, GPS, GPSm, IOU)', load: async () => (await import('./commands/eval.ts')).evalCommand },
  infer: { about: 'run DensePose on images, folders, globs and videos', load: async () => (await import('./commands/infer.ts')).inferCommand },
  texture: { about: 'paint a texture atlas onto people, or extract one', load: async () => (await import('./commands/texture.ts')).textureCommand },
  convert: { about: 'convert a detectron2 checkpoint (.pkl) to safetensors', load: async () => (await import('./commands/convert.ts')).convertCommand },
  export: { about: 'export a model file to a model directory (ONNX stages + spec) for fast loading and browsers', load: async () => (await import('./commands/export.ts')).exportCommand },
  models: { about: 'the model zoo by name: list, pull, path, rm (detectron2 DensePose models)', load: async () => (await import('./commands/models.ts')).modelsCommand },
  bench: { about: 'run a benchmark; bare "densepose bench" lists them', load: async () => (await import('./commands/bench.ts')).benchCommand },
  demo: { about: 'render a synthetic scene, run the default model, write overlays to demo-out/', load: async () => (await import('./commands/demo.ts')).demoCommand },
  backend: { about: 'report the tfjs backend, threads and SIMD in use', load: async () => (await import('./commands/backend.ts')).backendCommand },
} as const satisfies Record<string, { about: string; load: () => Promise<(argv: string[]) => Promise<number>> }>;

type CommandName = keyof typeof COMMANDS;

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.about}`);
  return `Usage: densepose <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun "densepose <command> --help" for a command's options; "densepose --version" for the version.`;
}

/** The package's version, from its package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Whether to print stacks of unexpected errors (for bug reports). */
const debug = (): boolean => process.env.DENSEPOSE_DEBUG === '1';

/**
 * One line for anything thrown: `densepose <cmd>: <what> (<file/option>) [CODE]`. Messages that
 * already start with `densepose <cmd>:` are not prefixed twice; usage text after a blank line is
 * left out (the hint points to --help). No stack trace unless DENSEPOSE_DEBUG=1.
 */
export function formatError(command: string | undefined, e: unknown): string {
  const prefix = command ? `densepose ${command}` : 'densepose';
  const d = asDensePoseError(e);
  const strip = (text: string) => {
    // usage text after a blank line is dropped; other lines (lists of tensors, …) join the one line
    let t = text.split('\n\n')[0]!.replace(/\s*\n\s*/g, ' ').trim();
    for (const p of [`${prefix}:`, 'densepose:']) if (t.startsWith(p)) t = t.slice(p.length).trim();
    return t.replace(/[.:]$/, '');
  };
  if (!d) {
    const err = e instanceof Error ? e : new Error(String(e));
    return `${prefix}: internal error: ${err.name}: ${strip(err.message) || '(no message)'} [INTERNAL] (a bug: please report it; DENSEPOSE_DEBUG=1 prints the stack)`;
  }
  const what = strip(d.detail ?? d.message);
  const where = d.where ? ` (${d.where})` : '';
  const hint = d.code === 'BAD_OPTION' && command ? `${what.endsWith('?') ? ' See' : '; see'} densepose ${command} --help` : '';
  return `${prefix}: ${what}${where}${hint} [${d.code}]`;
}

/** Print `e` as one line (and its stack with DENSEPOSE_DEBUG=1); returns its exit code. */
export function reportError(command: string | undefined, e: unknown): number {
  console.error(formatError(command, e));
  if (debug() && e instanceof Error && e.stack) console.error(e.stack);
  return exitCodeFor(e);
}

/** Run one `densepose` command line; returns the exit code and never throws (the CLI's error boundary). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(`densepose-ts ${version()}`);
    return EXIT.ok;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!(name in COMMANDS)) {
    console.error(`densepose: unknown command "${name}". Expected one of: ${Object.keys(COMMANDS).join(', ')}.${didYouMean(name, Object.keys(COMMANDS))} [BAD_OPTION]`);
    return EXIT.usage;
  }
  current = name;
  try {
    const run = await COMMANDS[name as CommandName].load();
    return await run(rest);
  } catch (e) {
    return reportError(name, e);
  }
}

/** The command running now, for errors that escape it asynchronously. */
let current: string | undefined;

/**
 * Last line of defence for errors thrown outside `main`'s await chain (a timer, a stream callback,
 * a library's own process hooks): one line, the class's exit code. Installed before any backend
 * loads, so it runs before (and instead of) handlers such as Emscripten's, which rethrow and make
 * Node print the minified source of tfjs-backend-wasm.
 */
export function installProcessHandlers(): void {
  const fatal = (e: unknown) => {
    process.exitCode = reportError(current, e);
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/** The `densepose` executable: handlers, then the command, then the exit code. */
export async function runCli(argv: string[] = process.argv.slice(2)): Promise<void> {
  installProcessHandlers();
  process.exitCode = await main(argv);
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) await runCli();
