// densepose-ts inference: the library API and the pieces the CLI and the browser page share.
export { createDensePose, INFER_BACKENDS, type CreateDensePoseOptions, type DensePose, type EstimateOptions, type HeadOptions, type ImageInput, type InferBackend } from './densepose.ts';
export type { DensePoseCocoResult, DensePoseMap, DensePosePerson, DensePosePersonJson, StageTensor } from './types.ts';
export { makePerson } from './person.ts';
export { saveModel, loadModel, readModelConfig, CONFIG_METADATA_KEY } from './model-file.ts';
export { isModelDir, openModelDir, readModelDir, writeModelDir, type ModelDir, type ModelDirMetadata } from './model-dir.ts';
export { MODEL_DIR_FILES, MODEL_DIR_VERSION } from './model-dir-files.ts';
export { cachedModelDir, exportModel, modelFingerprint, EXPORTS_SUBDIR } from './model-cache.ts';
export { modelDirOf, exportModelFile } from './export-model.ts';
export { cacheDir } from './cache-dir.ts';
export { exportStages, type StageGraphs } from './export-stages.ts';
export { pipelineSpec, PIPELINE_SPEC_VERSION, type PipelineSpec } from './spec.ts';
export { DensePosePipeline, type ChartRoi, type DensePoseCharts, type DetectedBatch, type PipelineOptions, type ScoredBoxes, type StageRunner } from './pipeline.ts';
export { createOrtStageRunner, type OrtModuleLike, type OrtStageRunnerOptions } from './ort-runner.ts';
export { createTfjsStageRunner } from './tfjs-runner.ts';
export { prepareBatch, type PixelImage, type PreparedBatch, type PrepareOptions } from './preprocess.ts';
export { STAGES, type StageName } from './stage-names.ts';
export { readImage, expandInputs, mediaKind, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, type RawImageInput } from './image-io.ts';
export { probeVideo, readVideoFrames, createVideoWriter, type VideoFrame, type VideoInfo, type VideoWriter } from './video-io.ts';
