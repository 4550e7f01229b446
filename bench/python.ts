import { execFileSync } from 'node:child_process';

let cached: string | null | undefined;

/**
 * A Python interpreter that can `import torch`, for the optional PyTorch peer columns:
 * `$DENSEPOSE_PYTHON`, then Debian's `/usr/bin/python3` (python3-torch), then `python3` on PATH.
 * null when none has torch.
 */
export function pythonWithTorch(): string | null {
  if (cached !== undefined) return cached;
  const candidates = [process.env.DENSEPOSE_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => Boolean(c));
  cached = null;
  for (const py of candidates) {
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
      cached = py;
      break;
    } catch {
      // not this one
    }
  }
  return cached;
}
