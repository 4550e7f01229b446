// A read-only zip reader for PyTorch checkpoints (`torch.save` writes an uncompressed zip): the central
// directory (with zip64 sizes and offsets), and each stored entry read into an aligned buffer of its own.
// Compressed entries are refused (torch never writes them).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DensePoseError } from '../../errors.ts';

export interface ZipEntry {
  name: string;
  /** 0 = stored. */
  method: number;
  size: number;
  compressedSize: number;
  localHeaderOffset: number;
}

/** An open zip file: entries by name, `read(name)` → the entry's bytes (8-byte aligned). Close when done. */
export interface ZipFile {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  read(name: string): Uint8Array;
  close(): void;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function readAt(fd: number, offset: number, length: number, where: string): Uint8Array {
  const buf = new Uint8Array(new ArrayBuffer(length));
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) throw new DensePoseError('TRUNCATED_FILE', `zip: needs ${length} bytes at offset ${offset}, the file ends first`, { where });
    done += n;
  }
  return buf;
}

/** True when the file starts like a zip (local file header). */
export function isZipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === LOCAL;
  } finally {
    closeSync(fd);
  }
}

export function openZip(path: string): ZipFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 65_557);
    const tail = readAt(fd, size - tailLen, tailLen, path);
    const dv = new DataView(tail.buffer);
    let e = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (dv.getUint32(i, true) === EOCD) { e = i; break; }
    if (e < 0) throw new DensePoseError('BAD_FILE', 'not a zip file (no end-of-central-directory record)', { where: path });
    let count = dv.getUint16(e + 10, true);
    let cdSize = dv.getUint32(e + 12, true);
    let cdOffset = dv.getUint32(e + 16, true);
    if ((count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) && e >= 20 && dv.getUint32(e - 20, true) === EOCD64_LOCATOR) {
      const at = Number(dv.getBigUint64(e - 20 + 8, true));
      const rec = new DataView(readAt(fd, at, 56, path).buffer);
      if (rec.getUint32(0, true) !== EOCD64) throw new DensePoseError('BAD_FILE', 'zip64 end-of-central-directory record not found', { where: path });
      count = Number(rec.getBigUint64(32, true));
      cdSize = Number(rec.getBigUint64(40, true));
      cdOffset = Number(rec.getBigUint64(48, true));
    }
    const cd = readAt(fd, cdOffset, cdSize, path);
    const cv = new DataView(cd.buffer);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (cv.getUint32(p, true) !== CENTRAL) throw new DensePoseError('BAD_FILE', `zip: bad central directory entry ${i}`, { where: path });
      const method = cv.getUint16(p + 10, true);
      let compressedSize = cv.getUint32(p + 20, true);
      let usize = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      let offset = cv.getUint32(p + 42, true);
      const name = Buffer.from(cd.buffer, p + 46, nameLen).toString('utf8');
      // zip64 extended information: the 0xffffffff fields, in order, as 8-byte values
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = cv.getUint16(x, true);
        const len = cv.getUint16(x + 2, true);
        if (id === 0x0001) {
          let q = x + 4;
          const next = () => {
            const v = Number(cv.getBigUint64(q, true));
            q += 8;
            return v;
          };
          if (usize === 0xffffffff) usize = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (offset === 0xffffffff) offset = next();
        }
        x += 4 + len;
      }
      entries.set(name, { name, method, size: usize, compressedSize, localHeaderOffset: offset });
      p = xEnd + commentLen;
    }
    return {
      entries,
      read(name: string): Uint8Array {
        const entry = entries.get(name);
        if (!entry) throw new DensePoseError('MISSING_KEY', `zip has no entry "${name}"`, { where: path });
        if (entry.method !== 0) throw new DensePoseError('UNSUPPORTED', `zip entry "${name}" is compressed (method ${entry.method}); PyTorch checkpoints store entries uncompressed`, { where: path });
        const lh = new DataView(readAt(fd, entry.localHeaderOffset, 30, path).buffer);
        if (lh.getUint32(0, true) !== LOCAL) throw new DensePoseError('BAD_FILE', `zip: bad local header of "${name}"`, { where: path });
        const start = entry.localHeaderOffset + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
        return readAt(fd, start, entry.size, path);
      },
      close: () => closeSync(fd),
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
