// densepose-ts in the browser (`import { createDensePose } from 'densepose-ts/browser'`):
//   const dp = await createDensePose({ model: '/model/' });      // an exported model directory
//   const people = await dp.estimate(document.querySelector('img')!); // also video, canvas, ImageData, ImageBitmap
//   JSON.stringify(people); await dp.dispose();
export {
  createDensePose,
  browserPixels,
  type BrowserDensePose,
  type BrowserEstimateOptions,
  type BrowserImageInput,
  type CreateBrowserDensePoseOptions,
  type ModelDirectoryContents,
} from './infer/browser.ts';
export type { DensePoseCocoResult, DensePoseMap, DensePosePerson, DensePosePersonJson } from './infer/types.ts';
export type { PipelineSpec } from './infer/spec.ts';
export type { DensePoseJsonOptions } from './data/densepose-json.ts';
export { DensePoseError, ERROR_CODES, type ErrorCode } from './errors.ts';
