// Texture transfer through DensePose's texture atlas (detectron2 DensePoseResultsVisualizerWithTexture,
// DensePose's texture-transfer notebook): the atlas is 4N wide × 6N tall, one N×N tile per part,
// part I (1..24) in column floor((I−1)/6), row (I−1) mod 6; inside a tile U runs along x and
// (1 − V) along y: texel (trunc(U·(N−1)), trunc((1−V)·(N−1))). A texel is transparent where the
// atlas's alpha says so, or, for an RGB atlas, where it is pure black.
import { DensePoseError } from '../errors.ts';
import { NUM_PARTS } from './colormap.ts';
import { boxRaster, compositeIuv, validatePerson } from './composite.ts';
import { cloneImage, validateImage } from './image.ts';
import type { AtlasImage, DensePosePerson, RgbImage } from './types.ts';

/** Tile grid of the atlas. */
export const ATLAS_COLS = 4;
export const ATLAS_ROWS = 6;

/** Top-left pixel of part `part`'s tile in an atlas of tile size `n`. */
export function atlasTileOrigin(part: number, n: number): [number, number] {
  return [Math.floor((part - 1) / ATLAS_ROWS) * n, ((part - 1) % ATLAS_ROWS) * n];
}

/** Tile size N of an atlas; throws unless it is 4N × 6N. */
export function atlasTileSize(atlas: AtlasImage): number {
  const n = atlas.width / ATLAS_COLS;
  if (!Number.isInteger(n) || n < 1 || atlas.height !== ATLAS_ROWS * n || atlas.data.length !== atlas.width * atlas.height * atlas.channels) {
    throw new DensePoseError('BAD_INPUT', `a texture atlas must be 4N wide and 6N tall (N×N tile per part; DensePose's is 800×1200), got ${atlas.width}×${atlas.height} with ${atlas.channels} channels`, { where: 'atlas' });
  }
  return n;
}

/** Atlas pixel index (not byte offset) of (part, U, V) in an atlas of tile size n and width 4n. */
function texelIndex(part: number, u: number, v: number, n: number): number {
  const cu = u > 0 ? (u < 1 ? u : 1) : 0;
  const cv = v > 0 ? (v < 1 ? v : 1) : 0;
  const [ox, oy] = atlasTileOrigin(part, n);
  const tx = Math.trunc(cu * (n - 1));
  const ty = Math.trunc((1 - cv) * (n - 1));
  return (oy + ty) * ATLAS_COLS * n + ox + tx;
}

export interface PaintAtlasOptions {
  /** Parts to paint; e.g. leave out 23, 24 to keep faces. @default all 1..24 */
  parts?: readonly number[];
}

/** The image with every person's foreground re-coloured from the atlas (alpha-blended where the atlas has alpha); a new image. */
export function paintAtlas(image: RgbImage, people: readonly DensePosePerson[], atlas: AtlasImage, options: PaintAtlasOptions = {}): RgbImage {
  validateImage(image);
  const n = atlasTileSize(atlas);
  const enabled = new Uint8Array(NUM_PARTS + 1);
  for (const p of options.parts ?? Array.from({ length: NUM_PARTS }, (_, i) => i + 1)) {
    if (!(Number.isInteger(p) && p >= 1 && p <= NUM_PARTS)) throw new DensePoseError('BAD_OPTION', `parts must be in 1..${NUM_PARTS}, got ${p}`, { where: 'paintAtlas' });
    enabled[p] = 1;
  }
  const c = compositeIuv(image.width, image.height, people);
  const out = cloneImage(image);
  const d = out.data;
  const a = atlas.data;
  const ch = atlas.channels;
  for (let o = 0; o < c.labels.length; o++) {
    const label = c.labels[o]!;
    if (label === 0 || enabled[label] === 0) continue;
    const t = texelIndex(label, c.u[o]!, c.v[o]!, n) * ch;
    const r = a[t]!;
    const g = a[t + 1]!;
    const b = a[t + 2]!;
    const alpha = ch === 4 ? a[t + 3]! / 255 : r + g + b > 0 ? 1 : 0;
    if (alpha === 0) continue;
    d[3 * o] = Math.round(d[3 * o]! * (1 - alpha) + r * alpha);
    d[3 * o + 1] = Math.round(d[3 * o + 1]! * (1 - alpha) + g * alpha);
    d[3 * o + 2] = Math.round(d[3 * o + 2]! * (1 - alpha) + b * alpha);
  }
  return out;
}

export interface ExtractAtlasOptions {
  /** Tile size N; the atlas is 4N × 6N. @default 200 */
  tileSize?: number;
  /**
   * Fill unseen texels up to this many texels from a seen one, with the mean of their already
   * filled neighbours in the same tile (one ring per step), so a person seen at a lower resolution
   * than the atlas gives solid charts rather than scattered dots. 0 = seen texels only.
   * @default round(tileSize / 25)
   */
  fill?: number;
}

/**
 * Grow the opaque texels of `data` (RGBA, `[6N, 4N, 4]`) by `steps` rings, each new texel the mean
 * of its opaque 8-neighbours in the same N×N tile (charts are separate surfaces: no bleeding).
 */
function fillHoles(data: Uint8Array, width: number, height: number, n: number, steps: number): void {
  const next = new Uint8Array(data.length);
  for (let step = 0; step < steps; step++) {
    next.set(data);
    let grew = false;
    for (let y = 0; y < height; y++) {
      const ty0 = y - (y % n);
      for (let x = 0; x < width; x++) {
        const t = y * width + x;
        if (data[4 * t + 3] !== 0) continue;
        const tx0 = x - (x % n);
        let r = 0, g = 0, b = 0, m = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < ty0 || yy >= ty0 + n) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < tx0 || xx >= tx0 + n || (dx === 0 && dy === 0)) continue;
            const q = 4 * (yy * width + xx);
            if (data[q + 3] === 0) continue;
            r += data[q]!;
            g += data[q + 1]!;
            b += data[q + 2]!;
            m++;
          }
        }
        if (m === 0) continue;
        next[4 * t] = Math.round(r / m);
        next[4 * t + 1] = Math.round(g / m);
        next[4 * t + 2] = Math.round(b / m);
        next[4 * t + 3] = 255;
        grew = true;
      }
    }
    data.set(next);
    if (!grew) break;
  }
}

/**
 * An RGBA atlas built from one person: each texel is the mean colour of the person's pixels that map
 * to it, alpha 255; texels no pixel maps to stay transparent (0, 0, 0, 0). The person's whole box is
 * read, whoever else overlaps it.
 */
export function extractAtlas(image: RgbImage, person: DensePosePerson, options: ExtractAtlasOptions = {}): AtlasImage {
  validateImage(image);
  validatePerson(person, 0);
  const n = options.tileSize ?? 200;
  if (!(Number.isInteger(n) && n >= 2)) throw new DensePoseError('BAD_OPTION', `tileSize must be an integer ≥ 2, got ${n}`, { where: 'extractAtlas' });
  const width = ATLAS_COLS * n;
  const height = ATLAS_ROWS * n;
  const sum = new Float64Array(3 * width * height);
  const count = new Uint32Array(width * height);
  const d = person.densepose;
  const r = boxRaster(person.box, d.width, d.height, image.width, image.height);
  for (let py = r.y0; py < r.y1; py++) {
    const rowBase = r.rows[py - r.y0]! * d.width;
    for (let px = r.x0; px < r.x1; px++) {
      const k = rowBase + r.cols[px - r.x0]!;
      const label = d.labels[k]!;
      if (label === 0 || label > NUM_PARTS) continue;
      const t = texelIndex(label, d.u[k]!, d.v[k]!, n);
      const s = 3 * (py * image.width + px);
      sum[3 * t] = sum[3 * t]! + image.data[s]!;
      sum[3 * t + 1] = sum[3 * t + 1]! + image.data[s + 1]!;
      sum[3 * t + 2] = sum[3 * t + 2]! + image.data[s + 2]!;
      count[t] = count[t]! + 1;
    }
  }
  const data = new Uint8Array(4 * width * height);
  for (let t = 0; t < count.length; t++) {
    const m = count[t]!;
    if (m === 0) continue;
    data[4 * t] = Math.round(sum[3 * t]! / m);
    data[4 * t + 1] = Math.round(sum[3 * t + 1]! / m);
    data[4 * t + 2] = Math.round(sum[3 * t + 2]! / m);
    data[4 * t + 3] = 255;
  }
  const fill = options.fill ?? Math.round(n / 25);
  if (!(Number.isInteger(fill) && fill >= 0)) throw new DensePoseError('BAD_OPTION', `fill must be an integer ≥ 0, got ${fill}`, { where: 'extractAtlas' });
  if (fill > 0) fillHoles(data, width, height, n, fill);
  return { width, height, channels: 4, data };
}
