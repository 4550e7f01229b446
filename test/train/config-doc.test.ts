// docs/training-config.md lists every key the training-config parser fills, with the default it fills.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src/train/config.ts';

/** `key → default cell` from the doc's table. */
function docRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync('docs/training-config.md', 'utf8').split('\n')) {
    const m = /^\| `([\w.[\]]+)` \| [^|]+(?:\\\|[^|]+)* \| ([^|]+) \|/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.trim());
  }
  return rows;
}

/** Every leaf key of the resolved config, dotted (`solver.baseLr`), with its value. */
function leaves(o: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && k !== 'model' ? leaves(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

describe('docs/training-config.md', () => {
  const rows = docRows();
  const resolved = resolveTrainConfig({ model: {} }, '/');

  it('documents every key the parser fills, and no key it does not know', () => {
    const keys = leaves(resolved as unknown as Record<string, unknown>).map(([k]) => k);
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) expect(rows.has(k), `docs/training-config.md lists ${k}`).toBe(true);
    const known = new Set([...keys, 'name', 'comment', 'data[].path', 'data[].ratio', 'data[].lossWeight', 'data[].targets']);
    for (const k of rows.keys()) expect(known.has(k), `${k} is a key of the parser`).toBe(true);
  });

  it('lists only keys the parser accepts (it refuses unknown ones)', () => {
    expect(() => resolveTrainConfig({ model: {}, solverr: {} } as never, '/')).toThrow(/solverr/);
    for (const [key, cell] of rows) {
      if (key === 'model' || key === 'data' || key.startsWith('data[]')) continue;
      // Keys without a default take a sample of their type.
      const value = /^`.*`$/.test(cell) ? JSON.parse(cell.slice(1, -1)) : key === 'valImages' ? 10 : 'some text';
      const [section, leaf] = key.split('.');
      const raw = leaf === undefined ? { [key]: key === 'val' || key === 'init' ? '/x' : value } : { [section!]: { [leaf]: value } };
      expect(() => resolveTrainConfig({ model: {}, ...raw } as never, '/'), key).not.toThrow();
    }
    for (const [key, cell] of rows) {
      if (!key.startsWith('data[].') || key === 'data[].path') continue;
      const leaf = key.slice('data[].'.length);
      expect(() => resolveTrainConfig({ model: {}, data: [{ path: '/x', [leaf]: JSON.parse(cell.slice(1, -1)) }] } as never, '/'), key).not.toThrow();
    }
  });

  it('states the default the parser fills for each key', () => {
    for (const [k, v] of leaves(resolved as unknown as Record<string, unknown>)) {
      const cell = rows.get(k)!;
      if (v === undefined) expect(['none', 'all', 'required'], `${k}: ${cell}`).toContain(cell);
      else if (k === 'model') expect(cell).toBe('required');
      else expect(JSON.parse(cell.replace(/^`|`$/g, '')), k).toEqual(v);
    }
  });
});
