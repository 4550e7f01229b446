// Reading user images and expanding command-line inputs (files, folders, globs) into media files.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import sharp from 'sharp';
import { DensePoseError } from '../errors.ts';
import type { RgbImage } from '../vis/types.ts';

export type { RgbImage } from '../vis/types.ts';

/** Raw pixels a caller already has: interleaved `[height, width, channels]` bytes, 1 (grey), 3 (RGB) or 4 (RGBA) channels. */
export interface RawImageInput {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * An image as 8-bit RGB `[height, width, 3]`: files and encoded buffers are decoded with sharp
 * (EXIF orientation applied, alpha dropped, grey expanded to RGB, 16-bit reduced to 8);
 * raw pixels are validated and converted. Unreadable or corrupt input throws `BAD_FILE` naming it.
 */
export async function readImage(input: string | Buffer | RawImageInput): Promise<RgbImage> {
  if (typeof input !== 'string' && !Buffer.isBuffer(input) && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
    throw new DensePoseError('BAD_INPUT', `an image must be a file path, a Buffer of encoded bytes or { width, height, data }, got ${got}`, { where: 'image' });
  }
  if (typeof input === 'object' && !Buffer.isBuffer(input)) return fromRaw(input);
  const where = typeof input === 'string' ? input : 'image buffer';
  let bytes: Buffer;
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new DensePoseError('BAD_FILE', `cannot read image: ${why}`, { where, cause: e });
  }
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoded to ${info.channels} channels, expected 3`);
    }
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `not a readable image (jpeg, png, webp, tiff, gif, avif): ${(e as Error).message}`, { where, cause: e });
  }
}

function fromRaw(raw: RawImageInput): RgbImage {
  const { width, height, data } = raw;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new DensePoseError('BAD_INPUT', `width and height must be positive integers, got ${width}×${height}`, { where: 'image' });
  }
  const n = width * height;
  const channels = data.length / n;
  if (channels === 3) return { width, height, data: data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  if (channels !== 1 && channels !== 4) {
    throw new DensePoseError('SHAPE_MISMATCH', `raw image data has ${data.length} bytes for ${width}×${height}; expected ${n} (grey), ${3 * n} (RGB) or ${4 * n} (RGBA)`, { where: 'image' });
  }
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    out[3 * i] = data[s]!;
    out[3 * i + 1] = data[channels === 1 ? s : s + 1]!;
    out[3 * i + 2] = data[channels === 1 ? s : s + 2]!;
  }
  return { width, height, data: out };
}

/** Extensions read as images (what sharp decodes). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'] as const;
/** Extensions read as videos (through ffmpeg). */
export const VIDEO_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.avi', '.mkv', '.webm', '.mpg', '.mpeg'] as const;

/** 'image', 'video' or undefined, by extension (case-insensitive). */
export function mediaKind(path: string): 'image' | 'video' | undefined {
  const ext = extname(path).toLowerCase();
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) return 'image';
  if ((VIDEO_EXTENSIONS as readonly string[]).includes(ext)) return 'video';
  return undefined;
}

export interface ExpandInputsOptions {
  /** Descend into sub-folders of folder inputs. @default false */
  recursive?: boolean;
}

const GLOB_CHARS = /[*?[{]/;

/** Whether an input is a glob pattern rather than a path. */
export function isGlob(input: string): boolean {
  return GLOB_CHARS.test(input);
}

/**
 * A RegExp for a glob over '/'-separated paths: `*` and `?` stay within one segment, `**` spans
 * segments (`a/**\/b` also matches `a/b`), `[...]` / `[!...]` classes, `{x,y}` alternatives.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        const atStart = i === 0 || pattern[i - 1] === '/';
        i++;
        if (atStart && pattern[i + 1] === '/') {
          re += '(?:[^/]*(?:/[^/]*)*/)?';
          i++;
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
      } else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (ch === '{') {
      braces++;
      re += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (ch === ',' && braces > 0) {
      re += '|';
    } else {
      re += ch.replace(/[.+^$()|\\\]}]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** Files under `dir`, named `prefix + relative path` so they keep the spelling the user typed. */
async function walk(dir: string, prefix: string, maxDepth: number, out: string[], depth = 0): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `cannot list folder: ${(e as Error).message}`, { where: dir, cause: e });
  }
  for (const e of entries) {
    const p = prefix + e.name;
    if (e.isDirectory()) {
      if (depth + 1 < maxDepth) await walk(join(dir, e.name), `${p}/`, maxDepth, out, depth + 1);
    } else if (e.isFile() || e.isSymbolicLink()) {
      out.push(p);
    }
  }
}

/**
 * Media files named by command-line inputs, sorted and without duplicates:
 * a folder gives its images and videos (by extension); a glob gives the matching images and
 * videos (`**` recurses); any other input is passed through as a file, so a missing or unreadable
 * one is reported when it is read, beside the good ones. A folder or glob that yields nothing throws `NOT_FOUND`.
 */
export async function expandInputs(inputs: readonly string[], options: ExpandInputsOptions = {}): Promise<string[]> {
  const found = new Set<string>();
  for (const input of inputs) {
    if (isGlob(input)) {
      const pattern = input.split(sep).join('/');
      const segments = pattern.split('/');
      const firstGlob = segments.findIndex((s) => isGlob(s));
      const baseSegs = segments.slice(0, firstGlob);
      const base = baseSegs.join('/') || (firstGlob === 1 ? '/' : '.');
      const prefix = firstGlob === 0 ? '' : `${baseSegs.join('/')}/`;
      const rest = segments.slice(firstGlob);
      const depth = rest.some((s) => s.includes('**')) ? Infinity : rest.length;
      const files: string[] = [];
      if (await isDir(base)) await walk(base, prefix, depth, files);
      const re = globToRegExp(pattern);
      const hits = files.filter((f) => re.test(f) && mediaKind(f) !== undefined);
      if (hits.length === 0) throw new DensePoseError('NOT_FOUND', `no images or videos match the pattern (images: ${IMAGE_EXTENSIONS.join(' ')}; videos: ${VIDEO_EXTENSIONS.join(' ')})`, { where: input });
      for (const h of hits) found.add(h);
    } else if (await isDir(input)) {
      const files: string[] = [];
      await walk(input, input.endsWith('/') ? input : `${input}/`, options.recursive ? Infinity : 1, files);
      const hits = files.filter((f) => mediaKind(f) !== undefined);
      if (hits.length === 0) throw new DensePoseError('NOT_FOUND', `folder has no images or videos (${[...IMAGE_EXTENSIONS, ...VIDEO_EXTENSIONS].join(' ')})`, { where: input });
      for (const h of hits) found.add(h);
    } else {
      found.add(input);
    }
  }
  return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
