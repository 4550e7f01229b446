// The cache entry lock on its own: a holder on another machine (shared cache) is trusted until its lock
// goes stale; a holder in this process is waited for like any other.
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/zoo/lock.ts';

describe('zoo lock', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dp-zoo-lock-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a fresh lock of another host is waited for (onWait once); an old one is stale and taken over', async () => {
    const path = join(tmp, 'a.lock');
    writeFileSync(path, '12345\nanother-host.example\n');
    let waits = 0;
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 250);
    await expect(acquireLock(path, { staleMs: 60_000, pollMs: 20, signal: abort.signal }, () => waits++)).rejects.toThrow(/aborted while waiting for the lock/);
    expect(waits).toBe(1);
    expect(readFileSync(path, 'utf8')).toContain('another-host.example');

    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    const lock = await acquireLock(path, { staleMs: 60_000, pollMs: 20 }, () => waits++);
    expect(waits).toBe(1);
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n${hostname()}\n`);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('a second holder in this process waits until the first releases', async () => {
    const path = join(tmp, 'b.lock');
    const first = await acquireLock(path, { pollMs: 10 });
    let second = false;
    const pending = acquireLock(path, { pollMs: 10 }).then((l) => {
      second = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(second).toBe(false);
    first.release();
    const l = await pending;
    expect(second).toBe(true);
    l.release();
    expect(existsSync(path)).toBe(false);
  });
});
