import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { DensePoseError } from '../../errors.ts';

/**
 * Write `chunks` to `path` through a temporary file in the same folder and a rename, so readers
 * never see a half-written checkpoint and a crash leaves the old file intact.
 */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, Math.min(c.byteLength - off, 1 << 30));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new DensePoseError('BAD_FILE', `cannot write: ${(e as Error).message}`, { where: path, cause: e });
  }
}
