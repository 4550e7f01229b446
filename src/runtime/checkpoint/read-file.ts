import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DensePoseError } from '../../errors.ts';

/** Bytes read per `readSync` call; Node caps one read at 2 GiB, and smaller chunks keep memory flat. */
const CHUNK = 64 * 1024 * 1024;

/**
 * Read a whole file into one Buffer of its own (byteOffset 0, so typed-array views onto it are aligned
 * wherever the file's data is aligned). Works past `readFileSync`'s 2 GiB limit, up to Node's Buffer maximum.
 */
export function readWholeFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new DensePoseError('NOT_FOUND', `cannot open: ${(e as Error).message}`, { where: path, cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafeSlow(size);
    let pos = 0;
    while (pos < size) {
      const n = readSync(fd, buf, pos, Math.min(CHUNK, size - pos), pos);
      if (n === 0) break;
      pos += n;
    }
    return pos === size ? buf : buf.subarray(0, pos);
  } finally {
    closeSync(fd);
  }
}

/** `source` as bytes plus a name for error messages. */
export function loadSource(source: string | Uint8Array, name?: string): { bytes: Uint8Array; where: string } {
  if (typeof source === 'string') return { bytes: readWholeFile(source), where: name ?? source };
  return { bytes: source, where: name ?? '<buffer>' };
}
