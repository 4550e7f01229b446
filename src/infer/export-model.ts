// Model file (safetensors) → model directory: build the model on tfjs, export its stages to ONNX.
// The only tfjs step of inference; `createDensePose` reaches it through the export cache.
import { fromConfig, type ModelConfig } from '../model/config.ts';
import type { DensePoseRcnn } from '../model/densepose-rcnn.ts';
import { initBackend } from '../runtime/backend.ts';
import { exportStages } from './export-stages.ts';
import { loadModel } from './model-file.ts';
import { MODEL_DIR_VERSION } from './model-dir-files.ts';
import { writeModelDir, type ModelDir } from './model-dir.ts';
import { pipelineSpec } from './spec.ts';

/** The model directory contents of a built model (weights in the graphs, FrozenBN folded). */
export function modelDirOf(rcnn: DensePoseRcnn, source?: { file: string; fingerprint: string }): ModelDir {
  return {
    spec: pipelineSpec(rcnn),
    graphs: exportStages(rcnn),
    metadata: { format: 'densepose-ts model directory', version: MODEL_DIR_VERSION, config: rcnn.config, ...(source ? { source } : {}) },
  };
}

/** Options of {@link exportModelFile}. */
export interface ExportModelOptions {
  /** Config overriding the one stored in the model file. */
  config?: ModelConfig;
  /** Replace an existing `outDir` (`'keep'`: keep one another writer finished first). @default false */
  overwrite?: boolean | 'keep';
  /** Recorded in the metadata as the source's fingerprint. */
  fingerprint?: string;
}

/** Export the model file `file` to the model directory `outDir` (written atomically). */
export async function exportModelFile(file: string, outDir: string, options: ExportModelOptions = {}): Promise<void> {
  await initBackend({ backend: 'cpu' });
  const rcnn = loadModel(file, options.config ? fromConfig(options.config) : undefined);
  try {
    writeModelDir(modelDirOf(rcnn, { file, fingerprint: options.fingerprint ?? '' }), outDir, { overwrite: options.overwrite ?? false });
  } finally {
    rcnn.model.dispose();
  }
}
