import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DensePoseError, ioError } from '../../errors.ts';

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
    throw (e as { code?: string }).code === 'ENOENT' ? new DensePoseError('NOT_FOUND', 'no such file', { where: path, cause: e }) : ioError(e, path, 'open');
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new DensePoseError('BAD_FILE', 'is a folder, expected a file (a model: .safetensors; a training run: RUN/model_final.safetensors)', { where: path });
    const size = st.size;
    const buf = Buffer.allocUnsafeSlow(size);
    let pos = 0;
    while (pos < size) {
      let n: number;
      try {
        n = readSync(fd, buf, pos, Math.min(CHUNK, size - pos), pos);
      } catch (e) {
        throw ioError(e, path, 'read');
      }
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
