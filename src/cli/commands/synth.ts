import { join } from 'node:path';
import { DensePoseError, unknownValue } from '../../errors.ts';
import { BACKGROUND_KINDS, generateDataset, IMAGE_FORMATS, MAX_IMAGES, POSE_SETS } from '../../synth/index.ts';
import type { BackgroundKind, ImageFormat, PoseSet } from '../../synth/index.ts';
import { optChoice, optFlag, optNumber, optOptionalNumber, optString, parseArgs } from '../args.ts';
import { createProgress } from '../progress.ts';

const HELP = `Usage:
  densepose synth --out DIR --images N [--seed S] [--width 320 --height 240] [--preview] [--force]

Renders a synthetic COCO-DensePose data set: DIR/images/*.png, DIR/annotations.json (boxes, RLE
masks, 17 keypoints, ~100 DensePose points and 14 part masks per person), DIR/iuv/*.png (dense
ground truth: R, G, B = I, U·255, V·255; each person's "dp_dense" points at its pixels, so training
learns from every pixel: docs/dense-targets.md) and DIR/body/ (evaluation body: SMPL_subdiv.mat,
SMPL_SUBDIV_TRANSFORM.mat, Pdist_matrix.pkl). Same seed, same bytes.

Options:
  --out DIR          output directory (required; must be empty unless --force)
  --images N         number of images (required)
  --seed S           data set seed (default 0)
  --width W          image width (default 320)
  --height H         image height (default 240)
  --min-people N     fewest people per image (default 1)
  --max-people N     most people per image, ≤ 6 (default 4)
  --poses SET        key poses to draw from: all, upright, standing (default all)
  --backgrounds LIST comma-separated: indoor, outdoor, abstract (default all)
  --format F         png or jpg (default png)
  --points N         DensePose points per person (default 100)
  --workers N        worker threads (default min(4, CPUs−1); 1 = in this thread)
  --body-rows N      distance-matrix rows of the evaluation body (default 1000)
  --no-body          do not write body/
  --no-truncation    keep people inside the image
  --preview          also write DIR/preview.png (RGB | I | U | V of the first 8 images)
  --force            overwrite a non-empty DIR`;

/** \`densepose synth\`: write a synthetic COCO-DensePose data set. */
export async function synthCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ['out', 'images', 'seed', 'width', 'height', 'min-people', 'max-people', 'poses', 'backgrounds', 'format', 'points', 'workers', 'body-rows'],
    flags: ['preview', 'force', 'help', 'no-body', 'no-truncation'],
  }, 'synth');
  if (optFlag(args, 'help')) {
    console.log(HELP);
    return 0;
  }
  if (args.positional.length > 0) throw new DensePoseError('BAD_OPTION', `densepose synth: unexpected argument "${args.positional[0]}"; options start with --`);
  const out = optString(args, 'out');
  const images = optString(args, 'images');
  if (!out || images === undefined) throw new DensePoseError('BAD_OPTION', `densepose synth: --out and --images are required\n\n${HELP}`);
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
