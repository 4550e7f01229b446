// One definition per command of its options: the parser and the `--help` text are both made from
// it, so the help cannot list an option the parser refuses or miss one it accepts.
import { parseArgs, type ArgSpec, type ParsedArgs } from './args.ts';

export interface OptionSpec {
  /** Long name without the dashes (`min-size`). */
  name: string;
  /** Value placeholder shown in the help (`N`, `DIR`); absent for a boolean flag. */
  value?: string;
  /** What it does, one or more lines (wrapped by the author, not by us). */
  help: string;
  /** The default as the user would type it; shown as `(default …)`. Absent: required, or off for flags. */
  default?: string | number;
  /** The option may be given several times (values collected in order). */
  repeatable?: boolean;
}

export interface CommandSpec {
  /** `densepose <name>`; sub-commands as `distill merge`. */
  name: string;
  /** Usage lines after `densepose ` (first one is the main form). */
  usage: readonly string[];
  /** Prose after the usage lines (what it does, what it writes). */
  description?: string;
  options: readonly OptionSpec[];
  /** Positional arguments, for the usage text only (the command checks them). */
  positional?: string;
}

const HELP_OPTION: OptionSpec = { name: 'help', help: 'print this help and exit' };

/** The help text: usage, description, and every option with its default. */
export function formatHelp(spec: CommandSpec): string {
  const usage = spec.usage.map((u, i) => `${i === 0 ? 'Usage: ' : '       '}densepose ${u}`).join('\n');
  const options = [...spec.options, HELP_OPTION];
  const heads = options.map((o) => `  --${o.name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.min(26, Math.max(...heads.map((h) => h.length)) + 2);
  const rows = options.map((o, i) => {
    const lines = o.help.split('\n');
    const suffix = [o.default !== undefined ? `(default ${o.default})` : '', o.repeatable ? '(repeatable)' : ''].filter(Boolean).join(' ');
    if (suffix) lines[lines.length - 1] = `${lines[lines.length - 1]} ${suffix}`;
    const head = heads[i]!;
    const first = head.length + 1 > width ? `${head}\n${' '.repeat(width)}${lines[0]}` : `${head.padEnd(width)}${lines[0]}`;
    return [first, ...lines.slice(1).map((l) => `${' '.repeat(width)}${l}`)].join('\n');
  });
  return [usage, spec.description ? `\n${spec.description}` : '', `\nOptions:\n${rows.join('\n')}`].join('\n');
}

/** The parser's view of the spec (`--help` included as a flag). */
export function argSpecOf(spec: CommandSpec): ArgSpec {
  return {
    values: spec.options.filter((o) => o.value !== undefined).map((o) => o.name),
    flags: [...spec.options.filter((o) => o.value === undefined).map((o) => o.name), 'help'],
  };
}

/** True when argv asks for help (`--help` or `-h` anywhere). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Parse argv against the spec; `undefined` after printing the help when `--help`/`-h` is given
 * (the command then returns 0), so every command answers `--help` the same way.
 */
export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedArgs | undefined {
  if (wantsHelp(argv)) {
    console.log(formatHelp(spec));
    return undefined;
  }
  return parseArgs(argv, argSpecOf(spec), spec.name);
}
