// tfjs-core's Node entry registers no gradient functions. Register tfjs's full set first, then ours
// on top: ours fix kernels whose stock gradient is wrong or slow on wasm (see ops/gradients.ts).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { registerGradients } from './ops/gradients.ts';

registerGradients();

// Comparisons are piecewise constant: zero gradient. tfjs registers none, so a loss that branches on
// its own input (smooth-L1's `where(|d| < β, …)`) could not be differentiated at all.
const zero = (t: tf.Tensor | undefined) => () => tf.zerosLike(t!);
for (const kernelName of ['Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr']) {
  tf.registerGradient({ kernelName, inputsToSave: ['a', 'b'], gradFunc: (_dy, [a, b]) => ({ a: zero(a), b: zero(b) }) });
}
for (const kernelName of ['LogicalNot', 'Sign', 'Floor', 'Round', 'Ceil', 'ArgMax', 'ArgMin']) {
  tf.registerGradient({ kernelName, inputsToSave: ['x'], gradFunc: (_dy, [x]) => ({ x: zero(x) }) });
}
