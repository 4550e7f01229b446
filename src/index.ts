// densepose-ts: dense human pose estimation in TypeScript.
//   const dp = await createDensePose({ model: 'models/default.safetensors' });
//   const people = await dp.estimate('photo.jpg'); // DensePosePerson[]
//   await dp.dispose();
// Importing this entry loads no tfjs module (ONNX Runtime runs inference); building and training
// models on tfjs is `densepose-ts/train` (`loadModel`, `saveModel`, `train`, …).
export { createDensePose, INFER_BACKENDS, type CreateDensePoseOptions, type DensePose, type EstimateOptions, type HeadOptions, type ImageInput, type InferBackend } from './infer/densepose.ts';
export type { DensePoseCocoResult, DensePoseMap, DensePosePerson, DensePosePersonJson } from './infer/types.ts';
export { readModelConfig } from './infer/model-config.ts';
export { exportModel, cachedModelDir, modelFingerprint, type ExportModelDirOptions, type ModelCacheOptions } from './infer/model-cache.ts';
export { isModelDir, openModelDir, readModelDir, type ModelDir, type ModelDirMetadata } from './infer/model-dir.ts';
export { MODEL_DIR_FILES } from './infer/model-dir-files.ts';
export { cacheDir } from './infer/cache-dir.ts';
export type { PipelineSpec } from './infer/spec.ts';
export type { ChartRoi, DensePoseCharts, DetectedBatch, ScoredBoxes } from './infer/pipeline.ts';
export type { Detections } from './model/roi-heads/box-inference.ts';
export type { DensePoseJsonOptions, DensePoseMapJson } from './data/densepose-json.ts';
export { DensePoseError, ERROR_CODES, type ErrorCode } from './errors.ts';
export type { ModelConfig } from './model/config.ts';
export type { ExecutionProvider } from './runtime/onnx/session.ts';
export type { BackendName } from './runtime/backend.ts';
export { pullModel, cachedModel, listModels, removeModel, zooCacheDir, type CachedModel, type PullProgress, type ZooManifest, type ZooOptions } from './zoo/cache.ts';
export { shippedZooIndex, validateZooIndex, type ZooEntry, type ZooIndex } from './zoo/index.ts';
export type { ChartArrays, DensePoseConfidence } from './model/densepose/postprocess.ts';
