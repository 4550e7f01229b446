import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isModelDir } from '../../infer/model-dir.ts';
import { DensePoseError } from '../../errors.ts';
import { createDensePose, INFER_BACKENDS, PRECISIONS } from '../../infer/densepose.ts';
import { expandInputs } from '../../infer/image-io.ts';
import { runInputs, VIS_ALIASES, VIS_KINDS, type VisKind } from '../../infer/run-inputs.ts';
import { EXECUTION_PROVIDERS } from '../../runtime/onnx/session.ts';
import { unknownValue } from '../../errors.ts';
import { optChoice, optFlag, optNumber, optOptionalNumber, optString } from '../args.ts';
import { parseCommand, type CommandSpec } from '../command-spec.ts';
import { createProgress } from '../progress.ts';
import { loadCocoJson } from '../../data/coco.ts';
import { basename, join } from 'node:path';
import { EXIT } from '../exit-codes.ts';
import { catchInterrupts } from '../interrupt.ts';
import { PREPROCESS_MODES } from '../../infer/preprocess.ts';
import { looksLikeModelName } from '../../zoo/index.ts';
import { pullProgressBar } from './models.ts';

export const DEFAULT_MODEL = 'models/default.safetensors';

/** The bundled model's test-time sizes, read from its config so the help says what really runs. */
function bundledSizes(): string {
  try {
    const { input } = JSON.parse(readFileSync(fileURLToPath(new URL('../../../configs/densepose_rcnn_R_18_cpu_tiny.json', import.meta.url)), 'utf8')) as { input: { minSizeTest: number; maxSizeTest: number } };
    return `${input.minSizeTest}/${input.maxSizeTest}`;
  } catch {
    return '?';
  }
}

export const INFER_SPEC: CommandSpec = {
  name: 'infer',
  usage: ['infer INPUT... --out DIR [options]'],
  description: `Runs DensePose on images, folders, globs ("photos/**/*.jpg") and videos. Writes to DIR:
  results.json        COCO DensePose results (challenge format: image_id, category_id 1, bbox,
                      score, uv_shape, uv_data; plus segmentation, the person's RLE mask at image
                      size), ready for "densepose eval" (docs/formats.md)
  images.json         image ids ↔ files (and video frames), people per image, failed inputs
  NAME_iuv.png        whole-image IUV per image (R = part 0..24, G = U·255, B = V·255)
  NAME_overlay.png    overlays per image; NAME_overlay.mp4 per video
Images named by integers keep them as image_id (COCO file names, and "densepose synth" sets, whose
000001.png is image_id 1); otherwise ids count from 1. Unreadable inputs are skipped, listed at the
end, and make the exit code 1.`,
  options: [
    { name: 'out', value: 'DIR', help: 'output folder (required)' },
    {
      name: 'model',
      value: 'PATH|NAME',
      help: 'model file (safetensors with its config), model directory ("densepose export"), or a zoo model\nname such as R_50_FPN_s1x (downloaded and converted once; "densepose models list")',
      default: DEFAULT_MODEL,
    },
    { name: 'config', value: 'FILE', help: 'model config JSON overriding the one in the model file' },
    { name: 'vis', value: 'LIST', help: `overlays, comma-separated from ${VIS_KINDS.join(', ')}\n(detectron2 apply_net names ${Object.keys(VIS_ALIASES).join(', ')} also work); "none" for none`, default: 'parts,boxes' },
    { name: 'score', value: 'S', help: 'keep people scoring at least S, in [0, 1]', default: 'the config\'s for detectron2 models, e.g. 0.05 for the zoo; 0.5 for ours' },
    { name: 'preprocess', value: 'P', help: 'image resize: detectron2 (Pillow\'s uint8 bilinear, as DefaultPredictor) | float', default: 'detectron2 for detectron2 models, else float' },
    { name: 'recursive', help: 'also search sub-folders of folder inputs' },
    { name: 'video-fps', value: 'N', help: 'resample videos to N frames per second', default: 'the video\'s rate' },
    { name: 'backend', value: 'B', help: INFER_BACKENDS.join(' | '), default: 'onnx' },
    { name: 'ep', value: 'NAME', help: `ONNX Runtime execution provider: ${EXECUTION_PROVIDERS.join(', ')}`, default: 'cpu' },
    { name: 'min-size', value: 'N', help: 'resize the short side to N', default: `the model config's input.minSizeTest; bundled model ${bundledSizes().split('/')[0]}, zoo configs 800` },
    { name: 'max-size', value: 'N', help: 'long-side limit', default: `the model config's input.maxSizeTest; bundled model ${bundledSizes().split('/')[1]}, zoo configs 1333` },
    { name: 'batch', value: 'N', help: 'images per model run', default: 4 },
    { name: 'gt', value: 'GT.json', help: 'take image ids from a COCO file (images[].file_name → id), to score with "densepose eval"' },
    { name: 'precision', value: 'P', help: `${PRECISIONS.join(' | ')}; int8 modes are opt-in (README, Inference speed)\nand calibrate on the --calibrate images`, default: 'float32' },
    { name: 'calibrate', value: 'INPUT', help: 'images with people (file, folder or glob) to calibrate int8 precision on' },
    { name: 'confidence', help: "add confidence maps to results.json (models with confidence heads: the zoo's WC1/WC2/…M)" },
    { name: 'no-iuv', help: 'do not write the IUV PNGs' },
    { name: 'quiet', help: 'no progress bar' },
  ],
};

/** `densepose infer`: 0 when every input was processed, 1 when some failed (listed), 2 on bad usage. */
export async function inferCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, INFER_SPEC);
  if (!args) return 0;
  const out = optString(args, 'out');
  if (args.positional.length === 0 || !out) throw new DensePoseError('BAD_OPTION', 'densepose infer: needs at least one INPUT and --out DIR (see --help)');
  const model = optString(args, 'model', DEFAULT_MODEL)!;
  if (!existsSync(model) && !looksLikeModelName(model)) throw new DensePoseError('NOT_FOUND', `model file not found${model === DEFAULT_MODEL ? ' (the default model; pass --model FILE)' : ''}`, { where: model });
  if (existsSync(model) && statSync(model).isDirectory() && !isModelDir(model)) throw new DensePoseError('BAD_OPTION', `--model must be a model file (.safetensors) or a model directory ("densepose export" writes one), not a folder without spec.json${existsSync(join(model, 'model_final.safetensors')) ? `; this looks like a training run: --model ${join(model, 'model_final.safetensors')}` : ''}`, { where: model });
  const visText = optString(args, 'vis', 'parts,boxes')!;
  const vis = visText === 'none' || visText === '' ? [] : visText.split(',').map((s) => VIS_ALIASES[s.trim() as keyof typeof VIS_ALIASES] ?? s.trim());
  for (const v of vis) if (!(VIS_KINDS as readonly string[]).includes(v)) throw unknownValue('overlay (--vis)', v, [...VIS_KINDS, ...Object.keys(VIS_ALIASES), 'none']);
  const backend = optChoice(args, 'backend', INFER_BACKENDS, 'onnx');
  const ep = optChoice(args, 'ep', EXECUTION_PROVIDERS, 'cpu');
  // unset: the model's own threshold (the config's, 0.05 for detectron2 zoo models)
  const score = optOptionalNumber(args, 'score', { min: 0, max: 1 });
  const preprocess = optChoice(args, 'preprocess', PREPROCESS_MODES);
  const fps = optOptionalNumber(args, 'video-fps', { min: 0, minExclusive: true, max: 1000 });
  const minSize = optOptionalNumber(args, 'min-size', { integer: true, min: 8, max: 16384 });
  const maxSize = optOptionalNumber(args, 'max-size', { integer: true, min: 8, max: 16384 });
  const batch = optNumber(args, 'batch', 4, 'infer', { integer: true, min: 1, max: 256 });

  const precision = optChoice(args, 'precision', PRECISIONS, 'float32');
  const calibrate = optString(args, 'calibrate');
  if (precision !== 'float32' && !calibrate) throw new DensePoseError('BAD_OPTION', `densepose infer: --precision ${precision} needs --calibrate INPUT (images with people)`);
  const calibrationImages = calibrate ? await expandInputs([calibrate]) : [];
  const files = await expandInputs(args.positional, { recursive: optFlag(args, 'recursive') });
  const gt = optString(args, 'gt');
  const config = optString(args, 'config');
  const dp = await createDensePose({
    model,
    ...(config ? { config } : {}),
    backend,
    executionProvider: ep,
    ...(score !== undefined ? { scoreThreshold: score } : {}),
    ...(preprocess !== undefined ? { preprocess } : {}),
    ...(optFlag(args, 'quiet') ? {} : { onProgress: pullProgressBar(model) }),
    batchSize: batch,
    ...(minSize !== undefined ? { minSize } : {}),
    ...(maxSize !== undefined ? { maxSize } : {}),
    ...(precision !== 'float32' ? { precision, calibrationImages } : {}),
  });
  if (dp.fallbackReason) console.error(`densepose infer: ${dp.fallbackReason}`);
  const progress = optFlag(args, 'quiet') ? undefined : createProgress(files.length, 'infer');
  const interrupt = catchInterrupts(`finishing the current batch and writing ${join(out, 'results.json')} for the images done`);
  try {
    const report = await runInputs(dp, files, {
      outDir: out,
      ...(gt ? { imageIds: new Map(loadCocoJson(gt).images.map((im) => [basename(im.file_name), im.id])) } : {}),
      vis: vis as VisKind[],
      ...(fps !== undefined ? { videoFps: fps } : {}),
      iuv: !optFlag(args, 'no-iuv'),
      confidence: optFlag(args, 'confidence'),
      batchSize: batch,
      onFile: (_f, _i, info) => progress?.tick(1, info),
      signal: interrupt.signal,
    });
    progress?.done();
    const frames = report.images.length;
    console.log(`densepose infer: ${frames} image${frames === 1 ? '' : 's'}/frames, ${report.results.length} people → ${out}/results.json (${dp.backend}${dp.backend === 'onnx' ? `, ${dp.executionProvider}` : ''})`);
    if (report.failed.length > 0) {
      console.error(`densepose infer: ${report.failed.length} input${report.failed.length === 1 ? '' : 's'} failed:`);
      for (const f of report.failed) console.error(`  ${f.file}: ${f.reason}`);
    }
    if (report.notStarted > 0) {
      console.error(`densepose infer: interrupted; ${report.notStarted} of ${files.length} inputs not run (the results of the others are in ${join(out, 'results.json')}) [ABORTED]`);
      return EXIT.interrupted;
    }
    return report.failed.length > 0 ? EXIT.someInputsFailed : EXIT.ok;
  } finally {
    interrupt.dispose();
    await dp.dispose();
  }
}
