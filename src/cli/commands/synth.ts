import { join } from 'node:path';
import { DensePoseError, unknownValue } from '../../errors.ts';
import { BACKGROUND_KINDS, generateDataset, IMAGE_FORMATS, MAX_IMAGES, POSE_SETS } from '../../synth/index.ts';
import type { BackgroundKind, ImageFormat, PoseSet } from '../../synth/index.ts';
import { optChoice, optFlag, optNumber, optOptionalNumber, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';
import { createProgress } from '../progress.ts';

export const SYNTH_SPEC: CommandSpec = {
  name: 'synth',
  usage: ['synth --out DIR --images N [--seed S] [--width 320 --height 240] [--preview] [--force]'],
  description: `Renders a synthetic COCO-DensePose data set: DIR/images/*.png, DIR/annotations.json (boxes, RLE
masks, 17 keypoints, ~100 DensePose points and 14 part masks per person), DIR/iuv/*.png (dense
ground truth: R, G, B = I, U·255, V·255; each person's "dp_dense" points at its pixels, so training
learns from every pixel: docs/dense-targets.md) and DIR/body/ (evaluation body: SMPL_subdiv.mat,
SMPL_SUBDIV_TRANSFORM.mat, Pdist_matrix.pkl). Image files are named by their image id
(000001.png is image_id 1), as COCO names them. Same seed, same bytes.`,
  options: [
    { name: 'out', value: 'DIR', help: 'output directory (required; must be empty unless --force)' },
    { name: 'images', value: 'N', help: 'number of images (required)' },
    { name: 'seed', value: 'S', help: 'data set seed', default: 0 },
    { name: 'width', value: 'W', help: 'image width', default: 320 },
    { name: 'height', value: 'H', help: 'image height', default: 240 },
    { name: 'min-people', value: 'N', help: 'fewest people per image', default: 1 },
    { name: 'max-people', value: 'N', help: 'most people per image, ≤ 6', default: 4 },
    { name: 'poses', value: 'SET', help: `key poses to draw from: ${POSE_SETS.join(', ')}`, default: 'all' },
    { name: 'backgrounds', value: 'LIST', help: `comma-separated from ${BACKGROUND_KINDS.join(', ')}`, default: BACKGROUND_KINDS.join(',') },
    { name: 'format', value: 'F', help: IMAGE_FORMATS.join(' or '), default: 'png' },
    { name: 'points', value: 'N', help: 'DensePose points per person', default: 100 },
    { name: 'workers', value: 'N', help: 'worker threads (1 = in this thread)', default: 'min(4, CPUs−1)' },
    { name: 'body-rows', value: 'N', help: 'distance-matrix rows of the evaluation body', default: 1000 },
    { name: 'no-body', help: 'do not write body/' },
    { name: 'no-truncation', help: 'keep people inside the image' },
    { name: 'preview', help: 'also write DIR/preview.png (columns RGB | I | U | V, first 8 images)' },
    { name: 'force', help: 'overwrite a non-empty DIR' },
  ],
};

/** \`densepose synth\`: write a synthetic COCO-DensePose data set. */
export async function synthCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, SYNTH_SPEC);
  if (!args) return 0;
  if (args.positional.length > 0) throw new DensePoseError('BAD_OPTION', `densepose synth: unexpected argument "${args.positional[0]}"; options start with --`);
  const out = optString(args, 'out');
  const images = optString(args, 'images');
  if (!out || images === undefined) throw new DensePoseError('BAD_OPTION', `densepose synth: --out and --images are required\n\n${formatHelp(SYNTH_SPEC)}`);
  const int = (min: number, max?: number) => ({ integer: true, min, ...(max !== undefined ? { max } : {}) });
  const n = optNumber(args, 'images', 0, 'synth', int(1, MAX_IMAGES));
  const bg = optString(args, 'backgrounds');
  const backgrounds = bg?.split(',').map((s) => s.trim());
  for (const b of backgrounds ?? []) if (!(BACKGROUND_KINDS as readonly string[]).includes(b)) throw unknownValue('--backgrounds entry', b, BACKGROUND_KINDS);
  const options = {
    out,
    images: n,
    seed: optNumber(args, 'seed', 0, 'synth', int(0, 0xffffffff)),
    width: optNumber(args, 'width', 320, 'synth', int(16, 4096)),
    height: optNumber(args, 'height', 240, 'synth', int(16, 4096)),
    minPeople: optNumber(args, 'min-people', 1, 'synth', int(1, 6)),
    maxPeople: optNumber(args, 'max-people', 4, 'synth', int(1, 6)),
    poseSet: optChoice(args, 'poses', POSE_SETS, 'all') as PoseSet,
    backgrounds: backgrounds as BackgroundKind[] | undefined,
    format: optChoice(args, 'format', IMAGE_FORMATS, 'png') as ImageFormat,
    pointsPerPerson: optNumber(args, 'points', 100, 'synth', int(1, 10000)),
    workers: optOptionalNumber(args, 'workers', int(0, 64)),
    bodyRows: optOptionalNumber(args, 'body-rows', int(2)),
    body: !optFlag(args, 'no-body'),
    truncation: !optFlag(args, 'no-truncation'),
    preview: optFlag(args, 'preview'),
    force: optFlag(args, 'force'),
  };
  const progress = createProgress(n, 'synth');
  const res = await generateDataset({
    ...options,
    onProgress: () => progress.tick(),
  });
  progress.done();
  console.log(`wrote ${res.images} images, ${res.annotations} people to ${res.out} in ${res.seconds.toFixed(1)} s (${join(res.out, 'annotations.json')})`);
  return 0;
}
