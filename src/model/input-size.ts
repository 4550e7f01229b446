// Model input defaults and detectron2's test-time resize rule (no tfjs: the ONNX/browser pipelines use them).
import type { InputOptions } from './config.ts';

export const INPUT_DEFAULTS = {
  format: 'BGR',
  pixelMean: [103.53, 116.28, 123.675],
  pixelStd: [1, 1, 1],
  minSizeTest: 800,
  maxSizeTest: 1333,
  sizeDivisibility: 32,
} as const satisfies Required<InputOptions>;

/** detectron2 `ResizeShortestEdge.get_output_shape`: `[h, w]` after resizing the short side to `short` (long ≤ `max`). */
export function resizedShape(height: number, width: number, short: number, max: number): [number, number] {
  const scale = short / Math.min(height, width);
  let [h, w] = height < width ? [short, scale * width] : [scale * height, short];
  if (Math.max(h, w) > max) {
    const s = max / Math.max(h, w);
    h *= s;
    w *= s;
  }
  return [Math.floor(h + 0.5), Math.floor(w + 0.5)];
}
