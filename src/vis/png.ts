import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { DensePoseError } from '../errors.ts';
import type { AtlasImage, RgbImage } from './types.ts';

/** PNG bytes of an RGB image, or of an RGB(A) atlas. */
export async function encodePng(image: RgbImage | AtlasImage): Promise<Buffer> {
  const channels = 'channels' in image ? image.channels : 3;
  if (image.data.length !== image.width * image.height * channels) {
    throw new DensePoseError('SHAPE_MISMATCH', `expected ${image.height}·${image.width}·${channels} bytes, got ${image.data.length}`, { where: 'encodePng' });
  }
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels } }).png().toBuffer();
}

/** Atomic write (temp file + rename), shared with the rest of the system. */
export { writeFileAtomic } from '../io.ts';
import { writeFileAtomic } from '../io.ts';

/** Encode and write a PNG atomically. */
export async function savePng(path: string, image: RgbImage | AtlasImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}

/** Read an image keeping its alpha channel when it has one (texture atlases use alpha as coverage). */
export async function readAtlasImage(input: string | Buffer): Promise<AtlasImage> {
  const where = typeof input === 'string' ? input : 'atlas';
  try {
    const bytes = typeof input === 'string' ? await readFile(input) : input;
    const img = sharp(bytes).toColourspace('srgb');
    const meta = await img.metadata();
    const channels = meta.hasAlpha ? 4 : 3;
    const { data, info } = await (channels === 4 ? img.ensureAlpha() : img.removeAlpha()).raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels === 4 ? 4 : 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    if (e instanceof DensePoseError) throw e;
    throw new DensePoseError('BAD_FILE', `cannot read image: ${(e as Error).message}`, { where, cause: e });
  }
}
