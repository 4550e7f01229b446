// File names of a model exported for the browser page (web/public/model/ by default).
export const WEB_MODEL_FILES = {
  spec: 'spec.json',
  body: 'body.onnx',
  boxHead: 'box_head.onnx',
  densepose: 'densepose.onnx',
} as const;
