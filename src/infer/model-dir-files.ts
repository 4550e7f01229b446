// The files of a model directory (what `densepose export` writes, the browser page fetches and
// `createDensePose` opens with ONNX Runtime alone). No imports: the browser entry uses it too.
import type { StageName } from './stage-names.ts';

export const MODEL_DIR_FILES = {
  /** {@link PipelineSpec} JSON: everything the pipeline needs besides the graphs. */
  spec: 'spec.json',
  /** {@link ModelDirMetadata} JSON: format version, the model config, where it was exported from. */
  metadata: 'model.json',
  body: 'body.onnx',
  boxHead: 'box_head.onnx',
  densepose: 'densepose.onnx',
} as const satisfies Record<'spec' | 'metadata' | StageName, string>;

/** Version of the directory layout; bump when a reader of the old one would misread the new one. */
export const MODEL_DIR_VERSION = 1;
