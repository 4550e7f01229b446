import sharp from 'sharp';
import { DensePoseError } from '../errors.ts';
import { Rng } from './random.ts';
import { denseFromPng, readIuvPng, segmentationMask, type IuvPng } from '../data/dense-iuv.ts';
import { flipPerson, resizeShortestEdge } from './augment.ts';
import type { DenseSource, FlipSymmetry, PersonTarget, TrainSample } from './sample.ts';

/** One image of a training set with its people in original pixels (boxes xyxy). */
export interface SourceImage {
  id: number;
  file: string;
  width: number;
  height: number;
  people: PersonTarget[];
}

/** A training set and how much of each batch it gets. */
export interface SourceDataset {
  name: string;
  images: SourceImage[];
  /** Relative sampling ratio among data sets. @default 1 */
  ratio?: number;
  /** Mirror table for horizontal flip of DensePose labels; without it, flip is off for this set. */
  symmetry?: FlipSymmetry;
}

export interface AugmentOptions {
  /** Shortest-side sizes drawn per image (multi-scale training). */
  minSizes: readonly number[];
  maxSize: number;
  /** Probability of a horizontal flip. @default 0.5 */
  flipProbability?: number;
  /** Colour jitter strength (brightness, contrast, saturation ±). 0 = off. @default 0.2 */
  colorJitter?: number;
}

export interface LoaderOptions {
  datasets: SourceDataset[];
  batchSize: number;
  seed: number;
  augment: AugmentOptions;
  /** Batches decoded ahead of the one being computed. @default 3 */
  prefetch?: number;
  /** Called for images that cannot be read; the loader skips them. */
  onBadImage?: (file: string, error: Error) => void;
}

/**
 * Training batches as a pure function of (seed, iteration): which images, scales, flips and jitter are
 * all drawn from `Rng.forKeys(seed, iteration, slot)`, so a resumed run sees exactly the same data.
 * Decoding and augmentation run in sharp's (libvips) worker threads, ahead of compute: `batch(k)`
 * also starts batches k+1…k+prefetch.
 */
export class DataLoader {
  private readonly pending = new Map<number, Promise<TrainSample[]>>();
  private readonly cumulative: number[];
  private readonly bad = new Set<string>();

  constructor(readonly options: LoaderOptions) {
    const ratios = options.datasets.map((d) => (d.images.length > 0 ? (d.ratio ?? 1) : 0));
    const total = ratios.reduce((a, b) => a + b, 0);
    if (total <= 0) throw new DensePoseError('BAD_INPUT', `no usable training images in ${options.datasets.map((d) => d.name).join(', ') || 'the data sets'} (every image is missing or failed to decode)`);
    let acc = 0;
    this.cumulative = ratios.map((r) => (acc += r / total));
  }

  /** Images that failed to decode so far. */
  badImages(): string[] {
    return [...this.bad];
  }

  batch(iteration: number): Promise<TrainSample[]> {
    const depth = this.options.prefetch ?? 3;
    for (let k = iteration; k <= iteration + depth; k++) if (!this.pending.has(k)) this.pending.set(k, this.load(k));
    const p = this.pending.get(iteration)!;
    this.pending.delete(iteration);
    for (const k of this.pending.keys()) if (k < iteration) this.pending.delete(k);
    return p;
  }

  private async load(iteration: number): Promise<TrainSample[]> {
    const out: TrainSample[] = [];
    for (let slot = 0; out.length < this.options.batchSize && slot < this.options.batchSize * 8; slot++) {
      const rng = Rng.forKeys(this.options.seed, iteration, slot);
      const r = rng.next();
      const datasetIndex = Math.max(0, this.cumulative.findIndex((c) => r < c));
      const ds = this.options.datasets[datasetIndex]!;
      const img = ds.images[rng.int(ds.images.length)]!;
      if (this.bad.has(img.file)) continue;
      try {
        out.push(await this.loadOne(img, ds, datasetIndex, rng));
      } catch (e) {
        this.bad.add(img.file);
        this.options.onBadImage?.(img.file, e as Error);
      }
    }
    return out;
  }

  private async loadOne(img: SourceImage, ds: SourceDataset, datasetIndex: number, rng: Rng): Promise<TrainSample> {
    const a = this.options.augment;
    const target = rng.pick(a.minSizes);
    const size = resizeShortestEdge(img.width, img.height, target, a.maxSize);
    const flipped = ds.symmetry !== undefined && rng.next() < (a.flipProbability ?? 0.5);
    const s = a.colorJitter ?? 0.2;
    const brightness = rng.uniform(1 - s, 1 + s);
    const saturation = rng.uniform(1 - s, 1 + s);
    const contrast = rng.uniform(1 - s, 1 + s);
    let pipeline = sharp(img.file).removeAlpha().toColourspace('srgb').resize(size.width, size.height, { fit: 'fill', kernel: 'linear' });
    if (flipped) pipeline = pipeline.flop();
    if (s > 0) pipeline = pipeline.modulate({ brightness, saturation }).linear(contrast, 128 * (1 - contrast));
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    const sx = size.width / img.width;
    const sy = size.height / img.height;
    const dense = await readDense(img.people);
    const people = img.people.map((p, k) => {
      const withDense = dense[k] ? { ...p, densepose: { ...p.densepose!, dense: dense[k]! } } : p;
      const scaled: PersonTarget = { ...withDense, box: [p.box[0] * sx, p.box[1] * sy, p.box[2] * sx, p.box[3] * sy] };
      return flipped ? flipPerson(scaled, size.width, ds.symmetry!) : scaled;
    });
    return { image: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: size.width, height: size.height, people, datasetIndex, imageId: img.id, flipped };
  }
}

/** The `dp_dense` maps of an image's people (undefined where a person has none); each PNG is decoded once. */
export async function readDense(people: readonly PersonTarget[]): Promise<(ReturnType<typeof denseFromPng> | undefined)[]> {
  const pngs = new Map<string, Promise<IuvPng>>();
  return Promise.all(people.map(async (p) => {
    const src: DenseSource | undefined = p.denseSource;
    if (!src) return undefined;
    let png = pngs.get(src.file);
    if (!png) pngs.set(src.file, (png = readIuvPng(src.file)));
    return denseFromPng(await png, src.ref, src.bbox, src.segmentation ? segmentationMask(src.segmentation) : undefined);
  }));
}
