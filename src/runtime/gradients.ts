// tfjs-core's Node entry registers no gradient functions (and its `register_all_gradients` cannot be
// imported from Node's ESM loader), so every gradient the models use is registered in ops/gradients.ts.
import * as tf from '@tensorflow/tfjs-core';
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
