// The staged pipeline, independent of where the stages run (ONNX Runtime in Node or in a browser):
// body+RPN → TS proposals → box RoIAlign → box head → NMS → DensePose RoIAlign → DensePose head
// → chart post-processing. No Node-only imports.
import { DensePoseError } from '../errors.ts';
import { type ChartArrays, chartOutputsToResults, prepareBoxes } from '../model/densepose/postprocess.ts';
import { roiAlignMultiLevelArrays } from '../model/roi-align.ts';
import { boxInference, type Detections } from '../model/roi-heads/box-inference.ts';
import { poolDensePoseRois, runDensePoseHeadBatched } from './densepose-stage.ts';
import { type PixelImage, type PrepareOptions, prepareBatch } from './preprocess.ts';
import { type StepProfile, timed, timedAsync } from './profile.ts';
import { AnchorCache } from '../model/rpn/anchors.ts';
import { proposeBoxes } from './proposals.ts';
import type { PipelineSpec } from './spec.ts';
import { BODY_OUTPUTS, BOX_HEAD_OUTPUTS, type StageName } from './stage-names.ts';
import { makePerson } from './person.ts';
import type { DensePosePerson, StageTensor } from './types.ts';

/** Runs one exported stage by name; the pipeline never sees the runtime. */
export interface StageRunner {
  run(stage: StageName, feeds: Record<string, StageTensor>): Promise<Record<string, StageTensor>>;
  dispose(): Promise<void>;
}

/** Per-call options of {@link runPipeline}. */
export interface PipelineOptions extends PrepareOptions {
  /** Keep people scoring above this. @default 0.5 */
  scoreThreshold?: number;
  /** Most people per image. @default the model's detectionsPerImage (100 for detectron2 configs) */
  maxPeople?: number;
  /** Boxes per DensePose head run: all of a batch in one run up to this (bounds the memory of the outputs, 3.9 MB per box at 112×112×77). @default 128 */
  headBatch?: number;
  /** Receives the wall time of every step (bench infer --profile). @default none */
  profile?: StepProfile;
}

/** Box RoIAlign pooler scales of p2..p5. */
const BOX_SCALES = [1 / 4, 1 / 8, 1 / 16, 1 / 32] as const;

function tensor(out: Record<string, StageTensor>, name: string, stage: StageName): StageTensor {
  const t = out[name];
  if (!t) throw new DensePoseError('MISSING_KEY', `stage "${stage}" did not output "${name}". Outputs: ${Object.keys(out).join(', ')}`);
  return t;
}

/** Image `n`'s slice of a batched NHWC map `[N,H,W,C]` as `[1,H,W,C]` (no copy). */
function imageSlice(t: StageTensor, n: number): { data: Float32Array; shape: [number, number, number, number] } {
  const [, h, w, c] = t.shape as [number, number, number, number];
  const size = h * w * c;
  return { data: t.data.subarray(n * size, (n + 1) * size), shape: [1, h, w, c] };
}

/** What {@link DensePosePipeline.detect} gives: detections per image and the maps the DensePose head pools from. */
export interface DetectedBatch {
  /** Per image: person boxes `[D,4]` xyxy in the image's own pixels, scores `[D]` (descending), classes `[D]`. */
  detections: Detections[];
  /** Per image: model-input pixels per image pixel `[sy, sx]`, and the unpadded model-input size `[h, w]`. */
  scales: [number, number][];
  sizes: [number, number][];
  /** NHWC maps `[N,H_l,W_l,C]` the DensePose head pools from (the decoder's stride-4 map, or p2..p5). */
  maps: StageTensor[];
}

/** Boxes `[K,4]` xyxy in an image's pixels and their scores `[K]`. */
export interface ScoredBoxes {
  boxes: Float32Array;
  scores: Float32Array;
}

/** Which box a row of a head run's outputs is: image in the batch, index in that image's box set, the box (clipped, image pixels), its score. */
export interface ChartRoi {
  image: number;
  index: number;
  box: Float32Array;
  score: number;
}

/** One DensePose head run: predictor outputs `[K,Hout,Wout,·]` NHWC (row k = `rois[k]`). */
export interface DensePoseCharts {
  arrays: ChartArrays;
  rois: ChartRoi[];
}

/** A pipeline bound to a model's spec and stage runner; reusable across calls (anchors cached). */
export class DensePosePipeline {
  private readonly anchors: AnchorCache;
  constructor(
    readonly spec: PipelineSpec,
    readonly runner: StageRunner,
  ) {
    this.anchors = new AnchorCache(spec.rpn);
  }

  /** People of each image (same order), boxes in the images' own pixels: {@link detect}, then {@link densepose} on the person boxes. */
  async run(images: readonly PixelImage[], options: PipelineOptions = {}): Promise<DensePosePerson[][]> {
    if (images.length === 0) return [];
    const detected = await this.detect(images, options);
    const boxes = detected.detections.map((d) => {
      const keep: number[] = [];
      for (let i = 0; i < d.classes.length; i++) if (d.classes[i] === 0) keep.push(i);
      return { boxes: Float32Array.from(keep.flatMap((i) => Array.from(d.boxes.subarray(4 * i, 4 * i + 4)))), scores: Float32Array.from(keep, (i) => d.scores[i]!) };
    });
    return this.densepose(detected, boxes, options);
  }

  /**
   * detectron2's first half: body + RPN → proposals → box head → NMS, for a batch of images. Boxes
   * come back in each image's own pixels; `maps` stay for {@link densepose}.
   */
  async detect(images: readonly PixelImage[], options: PipelineOptions = {}): Promise<DetectedBatch> {
    const spec = this.spec;
    const threshold = options.scoreThreshold ?? 0.5;
    if (!(threshold >= 0 && threshold <= 1)) throw new DensePoseError('BAD_OPTION', `scoreThreshold must be in [0, 1], got ${threshold}`);
    const prof = options.profile;
    const batch = timed(prof, 'preprocess', () => prepareBatch(images, spec, options));
    const [hp, wp] = batch.paddedSize;
    const body = await timedAsync(prof, 'stage body', () => this.runner.run('body', { image: { data: batch.data, shape: [batch.count, hp, wp, 3] } }));

    const levels = BODY_OUTPUTS.levels.map((l) => tensor(body, l, 'body'));
    const logits = BODY_OUTPUTS.logits.map((l) => tensor(body, l, 'body'));
    const deltas = BODY_OUTPUTS.deltas.map((l) => tensor(body, l, 'body'));
    const r = spec.box.poolerResolution;
    const c = spec.channels;

    // Proposals and box pooling per image; one box-head run for the whole batch.
    const proposals = timed(prof, 'proposals (top-k, decode, NMS)', () => images.map((_, n) =>
      proposeBoxes(
        spec.rpn,
        this.anchors,
        logits.map((t) => imageSlice(t, n).data),
        deltas.map((t) => imageSlice(t, n).data),
        levels.map((t) => [t.shape[1]!, t.shape[2]!] as const),
        batch.sizes[n]!,
      ),
    ));
    const total = proposals.reduce((k, p) => k + p.boxes.length / 4, 0);
    const cell = r * r * c;
    const pooled = new Float32Array(total * cell);
    let offset = 0;
    timed(prof, 'box RoIAlign', () => proposals.forEach((p, n) => {
      const maps = levels.slice(0, 4).map((t) => imageSlice(t, n));
      const out = roiAlignMultiLevelArrays(
        maps.map((m) => m.data),
        maps.map((m) => m.shape),
        p.boxes,
        { outputSize: [r, r], scales: BOX_SCALES, samplingRatio: spec.box.poolerSamplingRatio, aligned: spec.box.aligned },
      );
      pooled.set(out, offset);
      offset += out.length;
    }));
    const maxPeople = options.maxPeople ?? spec.box.topK;
    const boxOptions = { ...spec.box, scoreThresh: threshold, topK: maxPeople };
    let detections: Detections[];
    if (total === 0) {
      detections = images.map(() => ({ boxes: new Float32Array(0), scores: new Float32Array(0), classes: new Int32Array(0) }));
    } else {
      const head = await timedAsync(prof, 'stage boxHead', () => this.runner.run('boxHead', { pooled: { data: pooled, shape: [total, r, r, c] } }));
      const cls = tensor(head, BOX_HEAD_OUTPUTS[0], 'boxHead');
      const del = tensor(head, BOX_HEAD_OUTPUTS[1], 'boxHead');
      const k1 = cls.shape[1]!;
      const d4 = del.shape[1]!;
      let start = 0;
      detections = timed(prof, 'box inference (softmax, decode, NMS)', () => proposals.map((p, n) => {
        const count = p.boxes.length / 4;
        const d = boxInference(cls.data.subarray(start * k1, (start + count) * k1), del.data.subarray(start * d4, (start + count) * d4), p.boxes, batch.sizes[n]!, boxOptions);
        start += count;
        // model-input pixels → the image's own
        const [sy, sx] = batch.scales[n]!;
        for (let i = 0; i < d.boxes.length; i += 4) {
          d.boxes[i] = d.boxes[i]! / sx;
          d.boxes[i + 1] = d.boxes[i + 1]! / sy;
          d.boxes[i + 2] = d.boxes[i + 2]! / sx;
          d.boxes[i + 3] = d.boxes[i + 3]! / sy;
        }
        return d;
      }));
    }
    const maps = spec.densepose.decoder ? [tensor(body, BODY_OUTPUTS.dpFeatures, 'body')] : levels.slice(0, 4);
    return { detections, scales: batch.scales, sizes: batch.sizes, maps };
  }

  /**
   * detectron2's second half: the DensePose head on given boxes of each image of a detected batch
   * (`boxes[n]`: `[K,4]` xyxy in image `n`'s pixels, with their scores), batched over all boxes of the
   * batch, `headBatch` boxes per head run. Boxes are clipped to the image; empty ones are dropped.
   */
  async densepose(detected: DetectedBatch, boxes: readonly ScoredBoxes[], options: Pick<PipelineOptions, 'headBatch' | 'profile'> = {}): Promise<DensePosePerson[][]> {
    const prof = options.profile;
    const people: DensePosePerson[][] = boxes.map(() => []);
    for await (const { arrays, rois } of this.chartChunks(detected, boxes, options)) {
      const imageBoxes = new Float32Array(4 * rois.length);
      rois.forEach((roi, j) => imageBoxes.set(roi.box, 4 * j));
      timed(prof, 'chart post-processing', () => chartOutputsToResults(arrays, imageBoxes)).forEach((densepose, j) => {
        const roi = rois[j]!;
        const [x1, y1, x2, y2] = roi.box;
        people[roi.image]!.push(makePerson([x1!, y1!, x2! - x1!, y2! - y1!], roi.score, densepose));
      });
    }
    return people;
  }

  /**
   * The DensePose head's raw chart outputs on given boxes (as {@link densepose}, before resampling to the
   * boxes): one entry per head run, its `[K,Hout,Wout,·]` arrays and which box each row is. What
   * test-time augmentation fuses (distillation averages the views' probabilities before deciding parts).
   */
  async densePoseCharts(detected: DetectedBatch, boxes: readonly ScoredBoxes[], options: Pick<PipelineOptions, 'headBatch' | 'profile'> = {}): Promise<DensePoseCharts[]> {
    const out: DensePoseCharts[] = [];
    for await (const chunk of this.chartChunks(detected, boxes, options)) out.push(chunk);
    return out;
  }

  /** Pool and run the head `headBatch` boxes at a time, yielding each run's outputs (so callers can free them as they go). */
  private async *chartChunks(detected: DetectedBatch, boxes: readonly ScoredBoxes[], options: Pick<PipelineOptions, 'headBatch' | 'profile'>): AsyncGenerator<DensePoseCharts> {
    const headBatch = options.headBatch ?? 128;
    const prof = options.profile;
    if (!(Number.isInteger(headBatch) && headBatch > 0)) throw new DensePoseError('BAD_OPTION', `headBatch must be a positive integer, got ${headBatch}`);
    if (boxes.length !== detected.detections.length) throw new DensePoseError('SHAPE_MISMATCH', `densepose: ${boxes.length} box sets for ${detected.detections.length} images`);
    const dp = this.spec.densepose;
    const [ph, pw] = dp.poolerResolution;
    const jobs: (ChartRoi & { modelBox: Float32Array })[] = [];
    boxes.forEach((set, n) => {
      const [sy, sx] = detected.scales[n]!;
      const [h, w] = detected.sizes[n]!;
      const inModel = new Float32Array(set.boxes.length);
      for (let i = 0; i < set.boxes.length; i += 4) {
        inModel[i] = set.boxes[i]! * sx;
        inModel[i + 1] = set.boxes[i + 1]! * sy;
        inModel[i + 2] = set.boxes[i + 2]! * sx;
        inModel[i + 3] = set.boxes[i + 3]! * sy;
      }
      const kept = prepareBoxes(inModel, [h, w]);
      for (let j = 0; j < kept.index.length; j++) {
        const mb = kept.boxes.subarray(4 * j, 4 * j + 4);
        const index = kept.index[j]!;
        jobs.push({ image: n, index, modelBox: mb, box: Float32Array.of(mb[0]! / sx, mb[1]! / sy, mb[2]! / sx, mb[3]! / sy), score: set.scores[index]! });
      }
    });
    for (let start = 0; start < jobs.length; start += headBatch) {
      const chunk = jobs.slice(start, start + headBatch);
      const input = timed(prof, 'DensePose RoIAlign', () => poolDensePoseRois(dp, (n) => detected.maps.map((t) => imageSlice(t, n)), chunk));
      const arrays = await timedAsync(prof, 'stage densepose', () => runDensePoseHeadBatched(this.runner, { data: input, shape: [chunk.length, ph, pw, dp.channels] }, dp));
      yield { arrays, rois: chunk.map(({ image, index, box, score }) => ({ image, index, box, score })) };
    }
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
  }
}
