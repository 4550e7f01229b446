// Export a model file for the browser page: the three ONNX stages and the pipeline spec.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { exportStages } from './export-stages.ts';
import { pipelineSpec } from './spec.ts';
import { WEB_MODEL_FILES } from './web-model-files.ts';

/** Write `spec.json`, `body.onnx`, `box_head.onnx`, `densepose.onnx` of `rcnn` into `outDir`; returns the paths. */
export async function exportWebModel(rcnn: DensePoseRcnn, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const graphs = exportStages(rcnn);
  const files: [string, Uint8Array | string][] = [
    [WEB_MODEL_FILES.spec, JSON.stringify(pipelineSpec(rcnn), null, 1)],
    [WEB_MODEL_FILES.body, graphs.body],
    [WEB_MODEL_FILES.boxHead, graphs.boxHead],
    [WEB_MODEL_FILES.densepose, graphs.densepose],
  ];
  const paths: string[] = [];
  for (const [name, bytes] of files) {
    const path = join(outDir, name);
    await writeFile(path, bytes);
    paths.push(path);
  }
  return paths;
}
