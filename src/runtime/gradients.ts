// tfjs-core's Node entry registers no gradient functions. Register tfjs's full set first, then ours
// on top: ours fix kernels whose stock gradient is wrong or slow on wasm (see ops/gradients.ts).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { registerGradients } from './ops/gradients.ts';

registerGradients();
