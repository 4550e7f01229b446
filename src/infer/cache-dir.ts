// The one place that decides where densepose-ts caches downloaded and converted models on disk.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Cache root: `$DENSEPOSE_CACHE`, else `$XDG_CACHE_HOME/densepose-ts`, else `~/.cache/densepose-ts`.
 * Callers keep their own sub-folder under it (zoo checkpoints under `zoo/`).
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['DENSEPOSE_CACHE']) return resolve(env['DENSEPOSE_CACHE']);
  if (env['XDG_CACHE_HOME']) return resolve(env['XDG_CACHE_HOME'], 'densepose-ts');
  return join(homedir(), '.cache', 'densepose-ts');
}
