import { DensePoseError } from '../errors.ts';
import type { RgbImage } from './types.ts';

/** Throws unless `data` holds `height·width·3` bytes. */
export function validateImage(image: RgbImage, where = 'image'): void {
  if (!(Number.isInteger(image.width) && Number.isInteger(image.height) && image.width > 0 && image.height > 0)) {
    throw new DensePoseError('BAD_INPUT', `width and height must be positive integers, got ${image.width}×${image.height}`, { where });
  }
  if (image.data.length !== image.width * image.height * 3) {
    throw new DensePoseError('SHAPE_MISMATCH', `expected ${image.height}·${image.width}·3 = ${image.width * image.height * 3} RGB bytes, got ${image.data.length}`, { where });
  }
}

/** A copy that drawing functions can write into without touching the caller's image. */
export function cloneImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: new Uint8Array(image.data) };
}
