import { readFileSync } from 'node:fs';
import { DensePoseError } from '../errors.ts';

/** Each subcommand lives in its own module, loaded only when asked for (keeps `--help` instant). */
const COMMANDS = {
  synth: { about: 'render a synthetic COCO-DensePose data set', load: async () => (await import('./commands/synth.ts')).synthCommand },
  train: { about: 'train a detector + DensePose head', load: async () => (await import('./commands/train.ts')).trainCommand },
  distill: { about: 'label images with a teacher (data distillation); `distill merge` joins shards', load: async () => (await import('./commands/distill.ts')).distillCommand },
  eval: { about: 'score results against COCO-DensePose ground truth (bbox, segm, GPS, GPSm, IOU)', load: async () => (await import('./commands/eval.ts')).evalCommand },
  infer: { about: 'run DensePose on images, folders, globs and videos', load: async () => (await import('./commands/infer.ts')).inferCommand },
  texture: { about: 'paint a texture atlas onto people, or extract one', load: async () => (await import('./commands/texture.ts')).textureCommand },
  convert: { about: 'convert a detectron2 checkpoint (.pkl) to safetensors', load: async () => (await import('./commands/convert.ts')).convertCommand },
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

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(`densepose-ts ${version()}`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  if (!(name in COMMANDS)) {
    console.error(`densepose: unknown command "${name}". Expected one of: ${Object.keys(COMMANDS).join(', ')}.`);
    return 2;
  }
  const run = await COMMANDS[name as CommandName].load();
  return run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof DensePoseError) {
    console.error(`densepose: ${e.message}`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
