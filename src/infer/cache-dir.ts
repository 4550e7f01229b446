// Where densepose-ts caches things (exported models; the model zoo's downloads share the root).
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The cache root: `$DENSEPOSE_CACHE`, else `$XDG_CACHE_HOME/densepose-ts`, else `~/.cache/densepose-ts`.
 * Users of the cache keep to their own subfolder (exported models: `exports/`).
 */
export function densePoseCacheDir(env: Readonly<Record<string, string | undefined>> = process.env, home: string = homedir()): string {
  const own = env['DENSEPOSE_CACHE'];
  if (own) return own;
  const xdg = env['XDG_CACHE_HOME'];
  return xdg ? join(xdg, 'densepose-ts') : join(home, '.cache', 'densepose-ts');
}
