// File-system helpers every layer shares: atomic writes, output folders, JSON files. Failures come
// back as one DensePoseError naming the path and the cause (ENOSPC → "no space left on the device").
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DensePoseError, ioError, systemErrorCode } from './errors.ts';

/** `path.tmp-<pid>-<random>`: where an atomic write puts its bytes before the rename. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Matches the temporary files of {@link tempPathFor} (left behind by a kill during a write). */
export const TEMP_FILE_PATTERN = /\.tmp-\d+-[0-9a-z]+$/;

/** Remove a temporary file, never throwing: cleanup must not hide the error that made it necessary. */
function removeQuietly(tmp: string): void {
  try {
    rmSync(tmp, { force: true });
  } catch {
    // the folder itself may be gone or unwritable; the original error is what the user needs
  }
}

/**
 * Write `chunks` to `path` through a temporary file in the same folder, fsync and a rename, so readers
 * never see a half-written file and a crash leaves the old file intact. Errors: IO naming `path`.
 */
export function writeFileAtomicSync(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = tempPathFor(path);
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
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already reporting the write error
      }
    }
    removeQuietly(tmp);
    throw ioError(e, path, 'write');
  }
}

/** Async form of {@link writeFileAtomicSync} for one buffer. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError(e, path, 'write');
  }
}

/** Create `dir` (and parents); a file in the way or an unwritable place is a clear IO error. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const sys = systemErrorCode(e);
    if (sys === 'EEXIST' || sys === 'ENOTDIR') {
      throw new DensePoseError('IO', `cannot create folder: a file is in the way (${sys}); choose another output path`, { where: dir, cause: e });
    }
    throw ioError(e, dir, 'create folder');
  }
}

/** Delete temporary files of interrupted atomic writes in `dir` (not recursive); returns their names. */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => TEMP_FILE_PATTERN.test(n));
  for (const n of stale) removeQuietly(join(dir, n));
  return stale;
}

/** Line and column (1-based) of character `pos` of `text`. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  return { line: before.split('\n').length, column: pos - before.lastIndexOf('\n') };
}

/**
 * Read and parse a JSON file. A missing file is NOT_FOUND, a folder or unreadable file BAD_FILE/IO,
 * a syntax error BAD_FILE with the line and column — all naming the file. `what` names the kind of
 * file in messages ("training config").
 */
export function readJsonFile(path: string, what = 'JSON file'): unknown {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new DensePoseError('BAD_FILE', `is a folder, expected a ${what}`, { where: path });
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof DensePoseError) throw e;
    if (systemErrorCode(e) === 'ENOENT') throw new DensePoseError('NOT_FOUND', `${what} not found`, { where: path, cause: e });
    throw ioError(e, path, `read ${what}`);
  }
  return parseJsonText(text, path);
}

/** `JSON.parse` with errors that name `where` and the line/column of a syntax error. */
export function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // V8 gives either "at position N" or a quoted snippet around the error; find it in the text.
    const m = /position (\d+)/.exec(msg);
    const snip = /"(?:\.\.\.)?([\s\S]*?)(?:\.\.\.)?" is not valid JSON/.exec(msg);
    let pos = m ? Number(m[1]) : -1;
    if (pos < 0 && snip && snip[1]) pos = text.indexOf(snip[1]);
    if (pos < 0 && /end of JSON input/.test(msg)) pos = text.length;
    let place = '';
    if (pos >= 0) {
      const { line, column } = lineColumn(text, pos);
      place = ` at line ${line}, column ${column}`;
    }
    throw new DensePoseError('BAD_FILE', `malformed JSON${place}: ${msg.split('\n')[0]}`, { where, cause: e });
  }
}
