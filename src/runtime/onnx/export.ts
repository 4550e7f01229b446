import { DensePoseError } from '../../errors.ts';
import { writeFileAtomic } from '../checkpoint/atomic-write.ts';
import type { Module } from '../module.ts';
import { OnnxExecutor, type OnnxExecutorOptions, type OnnxLayout, type OnnxValue } from './onnx-executor.ts';

export interface OnnxInputSpec {
  name: string;
  /** Shape in `layout` order; -1 marks a dynamic axis (batch, height, width). */
  shape: readonly number[];
  /** Layout the caller feeds. NHWC inputs get one Transpose to NCHW at the graph entry. @default 'NHWC' */
  layout?: OnnxLayout;
}

export interface ExportOnnxOptions extends OnnxExecutorOptions {
  inputs: readonly OnnxInputSpec[];
  /** Names of the graph outputs, in the order the build function returns them. @default output_0, output_1, … */
  outputNames?: readonly string[];
  /** Layout of feature-map outputs; NHWC equals TfExecutor's outputs. @default 'NHWC' */
  outputLayout?: OnnxLayout;
  /** Free text stored in the model's doc_string. */
  docString?: string;
}

/**
 * Trace `build` with an `OnnxExecutor` and serialize the graph with the weights of `root`'s
 * parameters (initializers named by their dotted names). `build` is typically
 * `(ex, [x]) => [model.forward(ex, x)]`. Returns the ModelProto bytes (opset 17).
 */
export function exportOnnx(root: Module, build: (ex: OnnxExecutor, inputs: OnnxValue[]) => OnnxValue[] | OnnxValue, options: ExportOnnxOptions): Uint8Array {
  if (options.inputs.length === 0) throw new DensePoseError('BAD_OPTION', 'exportOnnx: options.inputs must name at least one input');
  const ex = new OnnxExecutor(root, options);
  const inputs = options.inputs.map((spec) => ex.input(spec.name, spec.shape, spec.layout ?? 'NHWC'));
  const result = build(ex, inputs);
  const outputs = Array.isArray(result) ? result : [result];
  const names = options.outputNames ?? outputs.map((_, i) => `output_${i}`);
  if (names.length !== outputs.length) {
    throw new DensePoseError('BAD_OPTION', `exportOnnx: outputNames has ${names.length} names but the build function returned ${outputs.length} outputs`);
  }
  outputs.forEach((v, i) => ex.output(v, names[i]!, options.outputLayout ?? 'NHWC'));
  return ex.toModelBytes(options.docString);
}

/** Write model bytes to `path` atomically (temp file + rename). */
export function writeOnnx(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, [bytes]);
}
