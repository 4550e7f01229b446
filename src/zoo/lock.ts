// A lock file for one cache entry, so that concurrent pulls of a model (processes or promises) download
// and convert it once: created with O_EXCL, holding the owner's pid; a lock whose owner is gone, or
// that has not been touched for `staleMs`, is taken over.
import { openSync, closeSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { DensePoseError } from '../errors.ts';

export interface LockOptions {
  /** A lock untouched this long is stale (its owner refreshes it while working). @default 120000 */
  staleMs?: number;
  /** Poll interval while waiting. @default 100 */
  pollMs?: number;
  signal?: AbortSignal;
}

/** A held lock: `touch()` while working, `release()` when done. */
export interface HeldLock {
  touch(): void;
  release(): void;
}

function ownerAlive(path: string): boolean {
  try {
    const [pid, host] = readFileSync(path, 'utf8').split('\n');
    if (host !== hostname()) return true; // another machine on a shared cache: trust the age check only
    process.kill(Number(pid), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, `${process.pid}\n${hostname()}\n`);
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new DensePoseError('BAD_FILE', `cannot create lock file: ${(e as Error).message}`, { where: path, cause: e });
  }
}

/**
 * Take the lock at `path`. `onWait` is called once if another holder has it (and we wait); the caller
 * re-checks the cache after acquiring, since the other holder may have finished the work.
 */
export async function acquireLock(path: string, options: LockOptions = {}, onWait?: () => void): Promise<HeldLock> {
  const staleMs = options.staleMs ?? 120_000;
  const pollMs = options.pollMs ?? 100;
  let waited = false;
  for (;;) {
    if (options.signal?.aborted) throw new DensePoseError('ABORTED', 'aborted while waiting for the lock', { where: path });
    if (tryCreate(path)) break;
    let age = 0;
    try {
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      continue; // released between our open and stat
    }
    // Same process (another promise) holds it when the pid is ours: wait for it like any other holder.
    if (age > staleMs || !ownerAlive(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!waited) onWait?.();
    waited = true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  let released = false;
  return {
    touch() {
      if (released) return;
      const now = new Date();
      try {
        utimesSync(path, now, now);
      } catch {
        // a taken-over lock: the next release is a no-op
      }
    },
    release() {
      if (released) return;
      released = true;
      rmSync(path, { force: true });
    },
  };
}
