// The person objects the pipeline returns: plain fields plus their JSON and COCO-result forms.
import { encodeUvData, type DensePoseJsonOptions } from '../data/densepose-json.ts';
import type { DensePoseCocoResult, DensePoseMap, DensePosePerson, DensePosePersonJson } from './types.ts';

/** A person with box `[x, y, w, h]` (image pixels), score and dense map. */
export function makePerson(box: [number, number, number, number], score: number, densepose: DensePoseMap): DensePosePerson {
  return {
    box,
    score,
    densepose,
    toJSON(options?: DensePoseJsonOptions | string): DensePosePersonJson {
      return { box: [...this.box], score: this.score, densepose: this.densepose.toJSON(options) };
    },
    toCocoResult(imageId: number): DensePoseCocoResult {
      const { width, height } = this.densepose;
      return { image_id: imageId, category_id: 1, bbox: [...this.box], score: this.score, ...encodeUvData(this.densepose.toIUV(), width, height) };
    },
  };
}
