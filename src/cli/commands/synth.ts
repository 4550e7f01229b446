import { join } from 'node:path';
import { DensePoseError } from '../../errors.ts';
import { BACKGROUND_KINDS, generateDataset, POSE_SETS } from '../../synth/index.ts';
import type { BackgroundKind, ImageFormat, PoseSet } from '../../synth/index.ts';
import { optFlag, optNumber, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';
import { createProgress } from '../progress.ts';

export const SYNTH_SPEC: CommandSpec = {
  name: 'synth',
  usage: ['synth --out DIR --images N [--seed S] [--width 320 --height 240] [--preview] [--force]'],
  description: `Renders a synthetic COCO-DensePose data set: DIR/images/*.png, DIR/annotations.json (boxes, RLE
masks, 17 keypoints, ~100 DensePose points and 14 part masks per person), DIR/iuv/*.png (dense
ground truth: R, G, B = I, U·255, V·255) and DIR/body/ (evaluation body: SMPL_subdiv.mat,
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
    { name: 'format', value: 'F', help: 'png or jpg', default: 'png' },
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
  if (!out || images === undefined) {
    console.error(`densepose synth: --out and --images are required.\n\n${formatHelp(SYNTH_SPEC)}`);
    return 2;
  }
  const n = optNumber(args, 'images', 0, 'synth');
  const bg = optString(args, 'backgrounds');
  const progress = createProgress(n, 'synth');
  const res = await generateDataset({
    out,
    images: n,
    seed: optNumber(args, 'seed', 0, 'synth'),
    width: optNumber(args, 'width', 320, 'synth'),
    height: optNumber(args, 'height', 240, 'synth'),
    minPeople: optNumber(args, 'min-people', 1, 'synth'),
    maxPeople: optNumber(args, 'max-people', 4, 'synth'),
    poseSet: optString(args, 'poses', 'all') as PoseSet,
    backgrounds: bg ? (bg.split(',').map((s) => s.trim()) as BackgroundKind[]) : undefined,
    format: optString(args, 'format', 'png') as ImageFormat,
    pointsPerPerson: optNumber(args, 'points', 100, 'synth'),
    workers: optString(args, 'workers') !== undefined ? optNumber(args, 'workers', 1, 'synth') : undefined,
    bodyRows: optString(args, 'body-rows') !== undefined ? optNumber(args, 'body-rows', 1000, 'synth') : undefined,
    body: !optFlag(args, 'no-body'),
    truncation: !optFlag(args, 'no-truncation'),
    preview: optFlag(args, 'preview'),
    force: optFlag(args, 'force'),
    onProgress: () => progress.tick(),
  });
  progress.done();
  console.log(`wrote ${res.images} images, ${res.annotations} people to ${res.out} in ${res.seconds.toFixed(1)} s (${join(res.out, 'annotations.json')})`);
  return 0;
}
