// Data distillation: teacher → test-time views → fused pseudo-labels (COCO-DensePose with dp_conf); shard merge.
export { distill, listImages } from './distill.ts';
export type { DistillOptions, DistillResult } from './distill.ts';
export { fuseBoxes } from './fuse-boxes.ts';
export type { FusedBoxes, FuseBoxesOptions, ViewDetections } from './fuse-boxes.ts';
export { flipTables, fuseCharts } from './fuse-charts.ts';
export type { FlipTables, FusedChart, ViewChart } from './fuse-charts.ts';
export { formatTransforms, parseShard, parseTransforms, resolveShard, transformViews } from './options.ts';
export type { DistillShard, DistillTransforms, ResolvedShard, TransformView } from './options.ts';
export { FINE_TO_COARSE, pseudoAnnotation } from './pseudo-labels.ts';
export type { PseudoLabelOptions } from './pseudo-labels.ts';
export { finalizePseudoLabels, mergeShardFiles, mergeShards, readPseudoLabels, rebaseDensePaths, writePseudoLabels } from './pseudo-set.ts';
export type { DistillInfo, PseudoLabelSet } from './pseudo-set.ts';
export { loadTeacher, resolveTeacherFile } from './teacher.ts';
