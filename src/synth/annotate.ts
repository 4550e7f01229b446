// COCO-DensePose annotations of a rendered scene: per visible person the box and RLE of its
// visible pixels, the 17 keypoints, ~100 DensePose points sampled uniformly over its visible
// pixels (in the 256×256 box frame, as COCO stores them) and the 14 coarse part masks over the box.
import { encodeMask } from '../data/mask.ts';
import type { Rle } from '../data/mask.ts';
import { FINE_TO_COARSE } from './charts.ts';
import { Rng } from './rng.ts';
import type { RenderedScene } from './scene.ts';

/** One person's annotation (COCO-DensePose fields; `id` and `image_id` filled by the writer). */
export interface SynthAnnotation {
  id: number;
  image_id: number;
  category_id: 1;
  /** [x, y, w, h]: the extent of the visible pixels. */
  bbox: [number, number, number, number];
  /** Visible pixels. */
  area: number;
  iscrowd: 0;
  segmentation: Rle;
  /** `[17·3]` x, y, v (COCO: x = y = 0 where v = 0). */
  keypoints: number[];
  num_keypoints: number;
  dp_x?: number[];
  dp_y?: number[];
  dp_I?: number[];
  dp_U?: number[];
  dp_V?: number[];
  /** 14 RLEs of 256×256 over the box; `[]` where the part is not seen. */
  dp_masks?: (Rle | [])[];
  /** Dense labels (docs/dense-targets.md): this person's pixels (`segmentation`) of the image's IUV PNG. */
  dp_dense?: { iuv: string; region: [number, number, number, number]; mask: 'segmentation' };
}

/** Options of {@link annotateScene}. */
export interface AnnotateOptions {
  /** DensePose points per person (fewer when fewer pixels are visible). @default 100 */
  pointsPerPerson?: number;
  /** People with fewer visible pixels are left out. @default 16 */
  minArea?: number;
  /** People with fewer visible pixels get box, mask and keypoints but no DensePose fields. @default 150 */
  minDensePoseArea?: number;
  /** Seed of the point sampling. @default 0 */
  seed?: number;
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** Annotations of every sufficiently visible person of `scene`, in the scene's person order. */
export function annotateScene(scene: RenderedScene, options: AnnotateOptions = {}): SynthAnnotation[] {
  const { width: W, height: H, instance, partIndex } = scene;
  const nPoints = options.pointsPerPerson ?? 100;
  const rng = new Rng(options.seed ?? 0, 0x5eed);
  const out: SynthAnnotation[] = [];
  const mask = new Uint8Array(W * H);
  const pool: Uint8Array[] = [];
  for (const person of scene.people) {
    const id = person.id;
    let area = 0, x0 = W, y0 = H, x1 = -1, y1 = -1;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const on = instance[y * W + x] === id ? 1 : 0;
      mask[y * W + x] = on;
      if (on) {
        area++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    if (area < (options.minArea ?? 16)) continue;
    const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    const kp = Array.from(person.keypoints, (v, i) => (i % 3 === 2 ? v : round4(v)));
    const ann: SynthAnnotation = {
      id: 0, image_id: 0, category_id: 1, bbox: [x0, y0, bw, bh], area, iscrowd: 0,
      segmentation: encodeMask(mask, H, W), keypoints: kp, num_keypoints: kp.filter((v, i) => i % 3 === 2 && v > 0).length,
    };
    if (area >= (options.minDensePoseArea ?? 150)) {
      // uniform sample without replacement over the visible pixels (partial Fisher–Yates)
      const pixels = new Int32Array(area);
      let n = 0;
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (mask[y * W + x]) pixels[n++] = y * W + x;
      const k = Math.min(nPoints, area);
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor(rng.next() * (area - i));
        const t = pixels[i]!; pixels[i] = pixels[j]!; pixels[j] = t;
      }
      const chosen = Array.from(pixels.subarray(0, k)).sort((a, b) => a - b);
      ann.dp_x = []; ann.dp_y = []; ann.dp_I = []; ann.dp_U = []; ann.dp_V = [];
      for (const p of chosen) {
        const x = p % W, y = (p - x) / W;
        // pixel centre in the box frame: image x = dp_x/255·w + x0 (DESIGN.md §5)
        ann.dp_x.push(round4(((x + 0.5 - x0) * 255) / bw));
        ann.dp_y.push(round4(((y + 0.5 - y0) * 255) / bh));
        ann.dp_I.push(partIndex[p]!);
        ann.dp_U.push(round4(scene.u[p]!));
        ann.dp_V.push(round4(scene.v[p]!));
      }
      ann.dp_masks = coarseMasks(scene, id, [x0, y0, bw, bh], pool).map((m) => (m ? encodeMask(m, 256, 256) : []));
    }
    out.push(ann);
  }
  return out;
}

/**
 * The 14 coarse part masks of person `id` over its box at 256×256 (nearest pixel at each cell
 * centre), row-major; `null` for parts not seen.
 */
export function coarseMasks(scene: RenderedScene, id: number, box: readonly [number, number, number, number], pool?: Uint8Array[]): (Uint8Array | null)[] {
  const { width: W, instance, partIndex } = scene;
  const [x0, y0, bw, bh] = box;
  const masks: (Uint8Array | null)[] = Array.from({ length: 14 }, () => null);
  // buffers from `pool` are zeroed and reused (the caller encodes them before the next call)
  const take = (c: number): Uint8Array => {
    if (!pool) return new Uint8Array(256 * 256);
    const m = (pool[c] ??= new Uint8Array(256 * 256));
    m.fill(0);
    return m;
  };
  const colOf = new Int32Array(256);
  for (let i = 0; i < 256; i++) colOf[i] = x0 + Math.min(bw - 1, Math.floor(((i + 0.5) * bw) / 256));
  for (let j = 0; j < 256; j++) {
    const py = y0 + Math.min(bh - 1, Math.floor(((j + 0.5) * bh) / 256));
    for (let i = 0; i < 256; i++) {
      const p = py * W + colOf[i]!;
      if (instance[p] !== id) continue;
      const c = FINE_TO_COARSE[partIndex[p]!]!;
      const m = (masks[c - 1] ??= take(c - 1));
      m[j * 256 + i] = 1;
    }
  }
  return masks;
}
