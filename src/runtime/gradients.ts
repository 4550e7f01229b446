// tfjs-core alone registers no gradient functions; training code imports this once.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
