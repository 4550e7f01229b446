import { basename } from 'node:path';
import { DensePoseError } from '../../errors.ts';
import { LAYOUT_KEY, OUR_LAYOUT, convertDetectron2StateDict, writeSafetensors } from '../../runtime/checkpoint/index.ts';
import { optFlag, optNumber, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';
import { buildDensePoseRcnn } from '../../model/densepose-rcnn.ts';
import { loadModelConfigFile } from '../../model/detectron2-config.ts';
import { loadDetectron2, readDetectron2Checkpoint } from '../../model/import-detectron2.ts';
import { saveModel } from '../../infer/model-file.ts';
import { initBackend } from '../../runtime/backend.ts';

const FROM = ['detectron2'] as const;

export const CONVERT_SPEC: CommandSpec = {
  name: 'convert',
  usage: ['convert --from detectron2 MODEL.pkl|MODEL.pth --out MODEL.safetensors [options] [KEY VALUE …]'],
  description: `Reads a detectron2 checkpoint (model-zoo .pkl, pickled {"model": {name: ndarray}}, or a .pth written by
torch.save, e.g. a detectron2 training run's model_final.pth; both read without executing any code),
converts its layout to ours (conv OIHW -> HWIO, ConvTranspose [in,out,kh,kw] -> [kh,kw,out,in],
Linear [out,in] -> [in,out]), drops bookkeeping entries (num_batches_tracked, pixel_mean/std, cell anchors)
and writes safetensors. With a detectron2 yaml --config, trailing KEY VALUE pairs override it, as on
detectron2's command line (e.g. MODEL.ROI_HEADS.SCORE_THRESH_TEST 0.3).`,
  options: [
    { name: 'from', value: 'FORMAT', help: `source format: ${FROM.join(', ')}`, default: 'detectron2' },
    { name: 'out', value: 'PATH', help: 'output .safetensors', default: 'the input with .safetensors' },
    { name: 'box-pooler', value: 'N', help: 'RoIAlign size of the box head; its fc1 input is reordered from a flattened\nC×N×N (NCHW) feature to N×N×C (NHWC) (0 = leave the order alone)', default: 7 },
    { name: 'config', value: 'CFG', help: 'model config: ours (configs/*.json) or detectron2\'s yaml (with its _BASE_ chain):\nbuild that model, load the checkpoint into it strictly (every name and shape\nmust match, the first mismatches are listed) and write a model file that\n"densepose infer --model" runs directly' },
    { name: 'json', help: 'print the report as JSON' },
  ],
};

/** `densepose convert --from detectron2 MODEL.pkl --out MODEL.safetensors`: layout conversion, names kept. */
export async function convertCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, CONVERT_SPEC);
  if (!args) return 0;
  const from = optString(args, 'from', 'detectron2')!;
  if (!(FROM as readonly string[]).includes(from)) {
    throw new DensePoseError('BAD_OPTION', `densepose convert: unknown --from "${from}". Expected one of: ${FROM.join(', ')}.`);
  }
  const [input, ...overrides] = args.positional;
  if (input === undefined || (overrides.length > 0 && !optString(args, 'config'))) {
    throw new DensePoseError('BAD_OPTION', `densepose convert: expected one input .pkl/.pth file${overrides.length ? ' (KEY VALUE overrides need --config CFG.yaml)' : ''}, got ${args.positional.length} arguments\n\n${formatHelp(CONVERT_SPEC)}`);
  }
  const out = optString(args, 'out') ?? input.replace(/\.(pkl|pth)$/i, '') + '.safetensors';
  const pooler = optNumber(args, 'box-pooler', 7, 'convert', { integer: true, min: 0, max: 64 });

  const configPath = optString(args, 'config');
  if (configPath) return convertWithConfig(input, out, configPath, overrides, optFlag(args, 'json'));
  const t0 = performance.now();
  const sd = readDetectron2Checkpoint(input);
  const t1 = performance.now();
  const result = convertDetectron2StateDict(sd, {
    flattenedInputs: pooler > 0 ? { 'roi_heads.box_head.fc1.weight': [0, pooler, pooler] } : {},
  });
  const metadata: Record<string, string> = {
    [LAYOUT_KEY]: OUR_LAYOUT,
    'densepose_ts.converted_from': `${from}:${basename(input)}`,
    'densepose_ts.flattened_inputs': JSON.stringify(Object.fromEntries(result.entries.filter((e) => e.flattenedFrom).map((e) => [e.name, e.flattenedFrom]))),
  };
  writeSafetensors(out, result.tensors, metadata);
  const t2 = performance.now();

  const kinds: Record<string, number> = {};
  let elements = 0;
  for (const e of result.entries) {
    kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    elements += e.to.reduce((a, b) => a * b, 1);
  }
  const report = {
    input,
    output: out,
    tensors: result.tensors.size,
    elements,
    kinds,
    flattened: result.entries.filter((e) => e.flattenedFrom).map((e) => ({ name: e.name, chw: e.flattenedFrom })),
    dropped: result.dropped,
    readMs: Math.round(t1 - t0),
    convertWriteMs: Math.round(t2 - t1),
    // names and shapes are checked against a model when the checkpoint is loaded (loadCheckpoint, strict)
    checkedAgainstModel: false,
  };
  if (optFlag(args, 'json')) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`converted ${report.tensors} tensors (${elements.toLocaleString('en-US')} values) from ${input} to ${out}`);
    console.log(`  kinds: ${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    for (const f of report.flattened) console.log(`  ${f.name}: input reordered from NCHW [${f.chw!.join(', ')}] to NHWC`);
    if (result.dropped.length) console.log(`  dropped (bookkeeping): ${result.dropped.join(', ')}`);
    console.log(`  read ${report.readMs} ms, convert + write ${report.convertWriteMs} ms; layout only (names/shapes are checked when a model loads it)`);
  }
  return 0;
}

/** Strict conversion against a model config: the result is a model file (weights + config). */
async function convertWithConfig(input: string, out: string, configPath: string, overrides: readonly string[], json: boolean): Promise<number> {
  await initBackend({ backend: 'cpu' });
  const rcnn = buildDensePoseRcnn(loadModelConfigFile(configPath, overrides), configPath);
  try {
    const report = loadDetectron2(rcnn.model, input);
    await saveModel(out, rcnn, { 'densepose_ts.converted_from': `detectron2:${basename(input)}` });
    const summary = { input, output: out, config: configPath, loaded: report.loaded, dropped: report.dropped, checkedAgainstModel: true };
    if (json) console.log(JSON.stringify(summary));
    else console.log(`loaded ${report.loaded} tensors of ${input} into ${configPath} (names and shapes checked) and wrote the model file ${out}`);
    return 0;
  } finally {
    rcnn.model.dispose();
  }
}
