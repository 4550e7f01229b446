import { DensePoseError } from '../../errors.ts';
import { loadDensePoseRcnnConfig } from '../../model/densepose-rcnn.ts';
import { exportModel } from '../../infer/model-cache.ts';
import { openModelDir } from '../../infer/model-dir.ts';
import { optFlag, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';

export const EXPORT_SPEC: CommandSpec = {
  name: 'export',
  usage: ['export MODEL.safetensors --out DIR [options]'],
  description: `Writes a model directory: spec.json (pipeline settings), model.json (format version, config, source),
body.onnx, box_head.onnx, densepose.onnx (weights inside, FrozenBN folded). createDensePose({ model: DIR })
and "densepose infer --model DIR" open it with ONNX Runtime alone (no tfjs, fast load); the browser
entry (densepose-ts/browser) fetches the same files. createDensePose does this itself for a .safetensors
model, once, into the cache ($DENSEPOSE_CACHE, else $XDG_CACHE_HOME/densepose-ts, else ~/.cache/densepose-ts).`,
  options: [
    { name: 'out', value: 'DIR', help: 'output directory (required)' },
    { name: 'config', value: 'CFG.json', help: 'model config overriding the one stored in the model file' },
    { name: 'force', help: 'replace DIR if it exists' },
  ],
};

/** `densepose export MODEL.safetensors --out DIR`: a model directory for ONNX Runtime. */
export async function exportCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, EXPORT_SPEC);
  if (!args) return 0;
  const input = args.positional[0];
  if (input === undefined || args.positional.length > 1) {
    throw new DensePoseError('BAD_OPTION', `densepose export: expected one model file, got ${args.positional.length}\n\n${formatHelp(EXPORT_SPEC)}`);
  }
  const out = optString(args, 'out');
  if (!out) throw new DensePoseError('BAD_OPTION', `densepose export: --out DIR is required\n\n${formatHelp(EXPORT_SPEC)}`);
  const configPath = optString(args, 'config');
  const t0 = performance.now();
  await exportModel(input, out, { ...(configPath ? { config: loadDensePoseRcnnConfig(configPath) } : {}), overwrite: optFlag(args, 'force') });
  const { spec } = openModelDir(out);
  console.log(`densepose export: ${input} → ${out} (model "${spec.name}", ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return 0;
}
