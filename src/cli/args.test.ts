import { describe, expect, it } from 'vitest';
import { closestName, DensePoseError } from '../errors.ts';
import { parseNumberOption } from './args.ts';
import { formatError } from './main.ts';

describe('parseNumberOption', () => {
  it('accepts what people type and refuses the rest, naming the option and the rule', () => {
    expect(parseNumberOption('12', '--n', { integer: true, min: 1 })).toBe(12);
    expect(parseNumberOption('1e3', '--n', { integer: true })).toBe(1000);
    expect(parseNumberOption('.5', '--s', { min: 0, max: 1 })).toBe(0.5);
    for (const bad of ['', ' ', 'abc', '0x10', '1.5', 'Infinity', '1e400', '2abc']) {
      expect(() => parseNumberOption(bad, '--n', { integer: true, min: 1 })).toThrow(`--n must be an integer ≥ 1, got "${bad}"`);
    }
    expect(() => parseNumberOption('0', '--fps', { min: 0, minExclusive: true })).toThrow('--fps must be a number > 0, got "0"');
    expect(() => parseNumberOption('7', '--k', { integer: true, min: 1, max: 6 })).toThrow('--k must be an integer in 1..6, got "7"');
  });
});

describe('closestName', () => {
  it('suggests likely typos only', () => {
    expect(closestName('maxIters', ['maxIter', 'baseLr'])).toBe('maxIter');
    expect(closestName('sovler', ['solver', 'input'])).toBe('solver');
    expect(closestName('zzz', ['solver', 'input'])).toBeUndefined();
  });
});

describe('formatError', () => {
  it('one line: what, where, code; the command prefix once; usage text dropped', () => {
    const e = new DensePoseError('BAD_OPTION', 'densepose train: --config and --out are required\n\nUsage: densepose train …');
    expect(formatError('train', e)).toBe('densepose train: --config and --out are required; see densepose train --help [BAD_OPTION]');
    expect(formatError('eval', new DensePoseError('NOT_FOUND', 'results file not found', { where: 'r.json' }))).toBe('densepose eval: results file not found (r.json) [NOT_FOUND]');
    const sys = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/d/x.png', syscall: 'write' });
    expect(formatError('synth', sys)).toBe('densepose synth: cannot write: no space left on the device (ENOSPC) (/d/x.png) [IO]');
    expect(formatError('infer', new TypeError('x is null'))).toMatch(/^densepose infer: internal error: TypeError: x is null \[INTERNAL\]/);
  });
});
