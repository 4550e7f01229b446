// Export a model file for the browser page: `npx tsx scripts/export-web-model.ts [--model FILE] [--out DIR]`.
import { existsSync } from 'node:fs';
import { exportWebModel } from '../src/infer/web-model.ts';
import { loadModel } from '../src/infer/model-file.ts';
import { initBackend } from '../src/runtime/backend.ts';

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
await initBackend({ backend: 'cpu' });
const rcnn = loadModel(model);
const files = await exportWebModel(rcnn, out);
rcnn.model.dispose();
console.log(`export-web-model: wrote ${files.join(', ')}`);
