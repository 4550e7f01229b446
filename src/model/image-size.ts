import { DensePoseError } from '../errors.ts';

/** Largest image side the model accepts (raw images are resized to ≤ 1333 first; this guards allocation). */
export const MAX_IMAGE_SIDE = 16384;

/** Throw BAD_INPUT, before anything is allocated, when a side is not an integer in 1..MAX_IMAGE_SIDE. */
export function checkImageSize(height: number, width: number, where = 'image'): void {
  for (const [name, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_IMAGE_SIDE) {
      throw new DensePoseError('BAD_INPUT', `${where} ${name} must be an integer in 1..${MAX_IMAGE_SIDE} pixels, got ${v} (image ${height}×${width})`);
    }
  }
}
