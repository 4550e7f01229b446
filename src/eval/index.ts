// densepose-ts/eval: scores as the field computes them — pycocotools' COCOeval for boxes and masks,
// detectron2's DensePoseCocoEval for GPS / GPSm / IOU — plus the body models and file readers they need.
export { evaluateDetections } from './detection-eval.ts';
export type { DetectionEvalOptions, DetectionEvalResult, DetectionIouType } from './detection-eval.ts';
export { evaluateDensePose, gpsScore, kappaForPart, DENSEPOSE_EVAL_MODES } from './densepose-eval.ts';
export type { DensePoseEvalMode, DensePoseEvalOptions, DensePoseModeResult } from './densepose-eval.ts';
export { DETECTION_STAT_NAMES, DENSEPOSE_STAT_NAMES, detectionParams, denseposeParams } from './coco-eval.ts';
export type { Accumulated, EvalParams } from './coco-eval.ts';
export { decodeDensePoseResults, decodeIuv, encodeIuv, iuvSizeForBox, loadDensePoseResults } from './densepose-results.ts';
export type { DensePoseDetection, IuvBox } from './densepose-results.ts';
export { bodyModelFromArrays, loadSmplBodyModel, SMPL_FILES, PDIST_ORDERS } from './body-model.ts';
export type { BodyModel, BodyModelArrays, LoadSmplBodyModelOptions, PdistOrder } from './body-model.ts';
export { readMat, matVariable, matToFloat64 } from './mat.ts';
export type { MatArray, MatFile } from './mat.ts';
export { formatTable } from './report.ts';
export * from '../data/mask.ts';
export { loadCocoJson, validateCocoDataset, validateCocoResults } from '../data/coco.ts';
export type { CocoAnnotation, CocoDataset, CocoImage, CocoResult, LoadedResult } from '../data/coco.ts';
export { loadCocoDensePose, personTarget } from '../data/coco-densepose.ts';
