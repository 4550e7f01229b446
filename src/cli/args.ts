import { DensePoseError } from '../errors.ts';

/** Parsed command line: `--key value`, `--flag`, repeated keys collected, the rest positional. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
}

export interface ArgSpec {
  /** Options that take a value. */
  values: readonly string[];
  /** Boolean flags. */
  flags: readonly string[];
}

export function parseArgs(argv: readonly string[], spec: ArgSpec, command: string): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.flags.includes(key)) {
      options.set(key, ['true']);
    } else if (spec.values.includes(key)) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new DensePoseError('BAD_OPTION', `densepose ${command}: --${key} needs a value`);
      options.set(key, [...(options.get(key) ?? []), value]);
    } else {
      const valid = [...spec.values, ...spec.flags].map((k) => `--${k}`);
      throw new DensePoseError('BAD_OPTION', `densepose ${command}: unknown option "--${key}". Expected one of: ${valid.join(', ')}.`);
    }
  }
  return { positional, options };
}

/** Last value of an option, or the default. */
export function optString(args: ParsedArgs, key: string, fallback?: string): string | undefined {
  const v = args.options.get(key);
  return v ? v[v.length - 1] : fallback;
}

export function optNumber(args: ParsedArgs, key: string, fallback: number, command: string): number {
  const s = optString(args, key);
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new DensePoseError('BAD_OPTION', `densepose ${command}: --${key} must be a number, got "${s}"`);
  return n;
}

export function optFlag(args: ParsedArgs, key: string): boolean {
  return args.options.has(key);
}
