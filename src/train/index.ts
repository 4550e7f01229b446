// densepose-ts/train: training (`train(config, { out, signal, onLog })`) and data distillation.
export { train } from './train.ts';
// model files on tfjs: build + load weights, save (moved here from the main entry, which loads no tfjs)
export { loadModel, saveModel } from '../infer/model-file.ts';
export type { TrainOptions, TrainResult } from './train.ts';
export { loadTrainConfig, resolveTrainConfig, TRAIN_ENGINES, TRAIN_MODES } from './config.ts';
export type { DataSetConfig, InputConfig, SolverConfig, TrainConfig, TrainEngine } from './config.ts';
export { runTrainingLoop } from './loop.ts';
export type { LoopOptions, LoopResult, TrainableModel } from './loop.ts';
export { rcnnTrainable } from './rcnn-trainable.ts';
export type { RcnnTrainOptions } from './rcnn-trainable.ts';
export { OnnxRcnnTrainer, gradientTensors } from './onnx/onnx-trainer.ts';
export type { BatchGradients, GradientTrainable } from './onnx/onnx-trainer.ts';
export { DataLoader } from './loader.ts';
export type { AugmentOptions, LoaderOptions, SourceDataset, SourceImage } from './loader.ts';
export { loadTrainingSet, annotationToPerson } from './datasets.ts';
export { Sgd } from './sgd.ts';
export { AdamW } from './adamw.ts';
export { createOptimizer, OPTIMIZERS } from './optimizer.ts';
export type { Optimizer, OptimizerName, StepReport } from './optimizer.ts';
export { learningRate, LR_SCHEDULES } from './schedule.ts';
export { Checkpointer } from './checkpointer.ts';
export { MetricsLog } from './metrics-log.ts';
export type { MetricsRow } from './metrics-log.ts';
export { validateRcnn, validationResults, type ValidateOptions } from './validate.ts';
export { synthFlipSymmetry } from './synth-symmetry.ts';
export type { FlipSymmetry, PersonTarget, TrainSample, PersonDensePose } from './sample.ts';
export type { DensePosePoints } from '../model/densepose/losses.ts';
export * from './distill/index.ts';
