// densepose-ts: dense human pose estimation in TypeScript.
//   const dp = await createDensePose({ model: 'models/default.safetensors' });
//   const people = await dp.estimate('photo.jpg'); // DensePosePerson[]
//   await dp.dispose();
export {
  createDensePose,
  INFER_BACKENDS,
  saveModel,
  loadModel,
  readModelConfig,
  type CreateDensePoseOptions,
  type DensePose,
  type DensePoseMap,
  type DensePosePerson,
  type EstimateOptions,
  type ImageInput,
  type InferBackend,
  type DensePoseCocoResult,
  type DensePosePersonJson,
} from './infer/index.ts';
export type { DensePoseJsonOptions, DensePoseMapJson } from './data/densepose-json.ts';
export { DensePoseError, ERROR_CODES, type ErrorCode } from './errors.ts';
export type { ModelConfig } from './model/config.ts';
export type { ExecutionProvider } from './runtime/onnx/session.ts';
export type { BackendName } from './runtime/backend.ts';
