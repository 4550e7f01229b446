import { DensePoseError } from '../../errors.ts';
import { loadDensePoseRcnnConfig } from '../../model/densepose-rcnn.ts';
import { exportModel } from '../../infer/model-cache.ts';
import { openModelDir } from '../../infer/model-dir.ts';
import { optFlag, optString, parseArgs } from '../args.ts';

const HELP = `Usage: densepose export MODEL.safetensors --out DIR [options]

Writes a model directory: spec.json (pipeline settings), model.json (format version, config, source),
body.onnx, box_head.onnx, densepose.onnx (weights inside, FrozenBN folded). createDensePose({ model: DIR })
and "densepose infer --model DIR" open it with ONNX Runtime alone (no tfjs, fast load); the browser
entry (densepose-ts/browser) fetches the same files. createDensePose does this itself for a .safetensors
model, once, into the cache ($DENSEPOSE_CACHE, else $XDG_CACHE_HOME/densepose-ts, else ~/.cache/densepose-ts).

Options:
  --out DIR          output directory (required)
  --config CFG.json  model config overriding the one stored in the model file
  --force            replace DIR if it exists`;

/** `densepose export MODEL.safetensors --out DIR`: a model directory for ONNX Runtime. */
export async function exportCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const args = parseArgs(argv, { values: ['out', 'config'], flags: ['force'] }, 'export');
  const input = args.positional[0];
  if (input === undefined || args.positional.length > 1) {
    throw new DensePoseError('BAD_OPTION', `densepose export: expected one model file, got ${args.positional.length}\n\n${HELP}`);
  }
  const out = optString(args, 'out');
  if (!out) throw new DensePoseError('BAD_OPTION', `densepose export: --out DIR is required\n\n${HELP}`);
  const configPath = optString(args, 'config');
  const t0 = performance.now();
  await exportModel(input, out, { ...(configPath ? { config: loadDensePoseRcnnConfig(configPath) } : {}), overwrite: optFlag(args, 'force') });
  const { spec } = openModelDir(out);
  console.log(`densepose export: ${input} → ${out} (model "${spec.name}", ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return 0;
}
