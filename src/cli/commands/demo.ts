import { existsSync } from 'node:fs';
import { ensureDir, writeFileAtomicSync } from '../../io.ts';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DensePoseError } from '../../errors.ts';
import { createDensePose } from '../../infer/densepose.ts';
import { toInferResult } from '../../infer/run-inputs.ts';
import { renderScene } from '../../synth/scene.ts';
import { compareSideBySide, drawBoxes, drawParts, drawUvIsolines, savePng, withPartLegend, type DensePosePerson as VisPerson } from '../../vis/index.ts';
import { optNumber, optString } from '../args.ts';
import { parseCommand, type CommandSpec } from '../command-spec.ts';

/** The bundled model, relative to the package (not the working directory). */
export const DEFAULT_MODEL = resolve(fileURLToPath(new URL('../../../models/default.safetensors', import.meta.url)));

export const DEMO_SPEC: CommandSpec = {
  name: 'demo',
  usage: ['demo [--out demo-out] [--model FILE] [--seed 7] [--width 640 --height 480] [--people 3]'],
  description: `Renders a synthetic scene, runs DensePose on it (ONNX Runtime) and writes to the output folder:
input.png, parts.png (part colours + boxes + the part legend), uv.png (U/V isolines), compare.png
(prediction | ground truth) and results.json (COCO DensePose challenge format, docs/formats.md).`,
  options: [
    { name: 'out', value: 'DIR', help: 'output folder', default: 'demo-out' },
    { name: 'model', value: 'FILE', help: 'model file', default: 'models/default.safetensors (bundled)' },
    { name: 'seed', value: 'S', help: 'scene seed', default: 7 },
    { name: 'width', value: 'W', help: 'scene width', default: 640 },
    { name: 'height', value: 'H', help: 'scene height', default: 480 },
    { name: 'people', value: 'N', help: 'people in the scene', default: 3 },
    { name: 'score', value: 'S', help: 'keep people scoring at least S, in [0, 1]', default: 0.5 },
  ],
};

export async function demoCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, DEMO_SPEC);
  if (!args) return 0;
  const out = optString(args, 'out', 'demo-out')!;
  const model = optString(args, 'model', DEFAULT_MODEL)!;
  if (!existsSync(model)) {
    throw new DensePoseError('NOT_FOUND', `no model at ${model}. Train one: densepose synth --out data/synth-train --images 2000 --seed 101 && densepose train --config configs/train/default-synth.json --out runs/default`);
  }
  const people = optNumber(args, 'people', 3, 'demo', { integer: true, min: 1, max: 6 });
  const scene = renderScene({
    width: optNumber(args, 'width', 640, 'demo', { integer: true, min: 16, max: 4096 }),
    height: optNumber(args, 'height', 480, 'demo', { integer: true, min: 16, max: 4096 }),
    seed: optNumber(args, 'seed', 7, 'demo', { integer: true, min: 0, max: 0xffffffff }),
    minPeople: people,
    maxPeople: people,
    poseSet: 'upright',
    truncation: false,
  });
  const image = { width: scene.width, height: scene.height, data: scene.rgb };
  const t0 = performance.now();
  const dp = await createDensePose({ model, scoreThreshold: optNumber(args, 'score', 0.5, 'demo', { min: 0, max: 1 }) });
  const t1 = performance.now();
  const found = await dp.estimate(image);
  const t2 = performance.now();
  await dp.dispose();

  ensureDir(out);
  const truth: VisPerson = {
    box: [0, 0, scene.width, scene.height],
    score: 1,
    densepose: { width: scene.width, height: scene.height, labels: scene.partIndex, u: scene.u, v: scene.v },
  };
  const parts = drawBoxes(drawParts(image, found), found);
  await savePng(join(out, 'input.png'), image);
  await savePng(join(out, 'parts.png'), withPartLegend(parts));
  await savePng(join(out, 'uv.png'), drawUvIsolines(image, found));
  const panels = compareSideBySide([image, parts, drawParts(image, [truth])], ['input', `densepose-ts (${found.length} found)`, `ground truth (${scene.people.length})`]);
  await savePng(join(out, 'compare.png'), withPartLegend(panels));
  // The same entries "densepose infer" writes: challenge fields (uv_shape, uv_data) and segmentation.
  const results = found.map((p) => toInferResult(p, 1, scene.width, scene.height));
  writeFileAtomicSync(join(out, 'results.json'), [Buffer.from(JSON.stringify(results))]);
  const n = (k: number) => `${k} ${k === 1 ? 'person' : 'people'}`;
  console.log(`found ${n(found.length)} (ground truth: ${scene.people.length}) in ${(t2 - t1).toFixed(0)} ms (model load ${(t1 - t0).toFixed(0)} ms, ${dp.backend}); overlays and results.json in ${out}/`);
  return 0;
}
