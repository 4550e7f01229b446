/** ONNX export of Executor-written models and ONNX Runtime sessions. */
export { exportOnnx, writeOnnx, type ExportOnnxOptions, type OnnxInputSpec } from './export.ts';
export { OnnxExecutor, ONNX_LAYOUTS, type OnnxExecutorOptions, type OnnxLayout, type OnnxValue } from './onnx-executor.ts';
export { GraphBuilder, ONNX_OPSET, ONNX_IR_VERSION, type OnnxAttr } from './graph.ts';
export { createSession, EXECUTION_PROVIDERS, GRAPH_OPTIMIZATION_LEVELS, type ExecutionProvider, type GraphOptimizationLevel, type OnnxSession, type OnnxTensor, type SessionOptions } from './session.ts';
