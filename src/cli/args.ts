import { DensePoseError, didYouMean } from '../errors.ts';

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
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new DensePoseError('BAD_OPTION', `densepose ${command}: --${key} needs a value`);
      options.set(key, [...(options.get(key) ?? []), value]);
    } else {
      const valid = [...spec.values, ...spec.flags].map((k) => `--${k}`);
      throw new DensePoseError('BAD_OPTION', `densepose ${command}: unknown option "--${key}". Expected one of: ${valid.join(', ')}.${didYouMean(`--${key}`, valid)}`);
    }
  }
  return { positional, options };
}

/** Last value of an option, or the default. */
export function optString(args: ParsedArgs, key: string, fallback?: string): string | undefined {
  const v = args.options.get(key);
  return v ? v[v.length - 1] : fallback;
}

/** What a numeric option accepts. @default any finite number */
export interface NumberRule {
  /** Whole numbers only. @default false */
  integer?: boolean;
  /** Smallest value allowed. */
  min?: number;
  /** Largest value allowed. */
  max?: number;
  /** `min` itself is not allowed (e.g. fps > 0). @default false */
  minExclusive?: boolean;
}

/** Decimal numbers as people type them: `12`, `-3`, `0.5`, `.5`, `1e3` (not `0x10`, `''`, `Infinity`). */
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  const lo = rule.min === undefined ? '' : `${rule.minExclusive ? '>' : '≥'} ${rule.min}`;
  if (rule.min !== undefined && rule.max !== undefined && !rule.minExclusive) return `${kind} in ${rule.min}..${rule.max}`;
  return [kind, lo, rule.max === undefined ? '' : `≤ ${rule.max}`].filter(Boolean).join(' ');
}

/**
 * The one parser of numeric command-line values: `--max-iter abc | 0 | -3 | 1.5` fail with
 * `--max-iter must be an integer ≥ 1, got "abc"` (BAD_OPTION).
 */
export function parseNumberOption(text: string, option: string, rule: NumberRule = {}): number {
  const n = NUMBER_TEXT.test(text.trim()) ? Number(text) : NaN;
  const ok = Number.isFinite(n) &&
    (!rule.integer || Number.isSafeInteger(n)) &&
    (rule.min === undefined || (rule.minExclusive ? n > rule.min : n >= rule.min)) &&
    (rule.max === undefined || n <= rule.max);
  if (!ok) throw new DensePoseError('BAD_OPTION', `${option} must be ${describeRule(rule)}, got "${text}"`);
  return n;
}

/** A numeric option's value, `fallback` when absent; see {@link parseNumberOption}. */
export function optNumber(args: ParsedArgs, key: string, fallback: number, _command?: string, rule: NumberRule = {}): number {
  const s = optString(args, key);
  return s === undefined ? fallback : parseNumberOption(s, `--${key}`, rule);
}

/** A numeric option's value, or undefined when it is not given. */
export function optOptionalNumber(args: ParsedArgs, key: string, rule: NumberRule = {}): number | undefined {
  const s = optString(args, key);
  return s === undefined ? undefined : parseNumberOption(s, `--${key}`, rule);
}

/** A value from a closed set: `Unknown --backend "gpu". Expected one of: wasm, cpu, tensorflow.` */
export function optChoice<T extends string>(args: ParsedArgs, key: string, valid: readonly T[], fallback: T): T;
export function optChoice<T extends string>(args: ParsedArgs, key: string, valid: readonly T[], fallback?: T): T | undefined;
export function optChoice<T extends string>(args: ParsedArgs, key: string, valid: readonly T[], fallback?: T): T | undefined {
  const s = optString(args, key);
  if (s === undefined) return fallback;
  if (!(valid as readonly string[]).includes(s)) {
    throw new DensePoseError('BAD_OPTION', `Unknown --${key} "${s}". Expected one of: ${valid.join(', ')}.${didYouMean(s, valid)}`);
  }
  return s as T;
}

export function optFlag(args: ParsedArgs, key: string): boolean {
  return args.options.has(key);
}
