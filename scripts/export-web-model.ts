// Export a model file for the browser page: `npx tsx scripts/export-web-model.ts [--model FILE] [--out DIR]`
// (a model directory, as `densepose export` writes it).
import { existsSync } from 'node:fs';
import { exportModelFile } from '../src/infer/export-model.ts';

const args = process.argv.slice(2);
const get = (k: string, d: string) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : d;
};
const model = get('model', 'models/default.safetensors');
const out = get('out', 'web/public/model');
if (!existsSync(model)) {
  console.error(`export-web-model: model file not found: ${model} (pass --model FILE)`);
  process.exit(2);
}
await exportModelFile(model, out, { overwrite: true });
console.log(`export-web-model: wrote ${out}`);
