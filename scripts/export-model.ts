// `tsx scripts/export-model.ts RUN_OR_CHECKPOINT OUT.safetensors`: a training checkpoint (or a run
// folder's newest) as a model file, without optimiser state — how models/default.safetensors is made.
import { exportModelFile } from '../src/train/checkpointer.ts';

const [from, out] = process.argv.slice(2);
if (!from || !out) {
  console.error('usage: tsx scripts/export-model.ts RUN_OR_CHECKPOINT OUT.safetensors');
  process.exit(2);
}
const source = exportModelFile(from, out);
console.log(`wrote ${out} from ${source}`);
