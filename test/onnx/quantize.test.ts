// QDQ int8 rewrite of an exported stage against the float32 graph it came from (the reference): every
// Conv/Add input gets a Q/DQ pair, no float32 Conv weight is left, and ORT's int8 run stays close.
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportStages } from '../../src/infer/export-stages.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { quantizableActivations, quantizeConvsQdq, RangeObserver, uint8Params, withExtraOutputs } from '../../src/runtime/onnx/quantize.ts';
import { createSession } from '../../src/runtime/onnx/session.ts';
import { biasedModel } from '../infer/helpers.ts';

const { onnx } = onnxProto;

function image(h: number, w: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: h * w * 3 }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 4 - 2);
}

describe('QDQ int8 quantisation of a stage graph', () => {
  let body: Uint8Array;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    const rcnn = biasedModel();
    body = exportStages(rcnn).body;
    rcnn.model.dispose();
  }, 60_000);

  it('uint8 parameters keep 0 exact and cover the range', () => {
    expect(uint8Params({ min: 0, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const p = uint8Params({ min: -1, max: 3 });
    expect(p.zeroPoint).toBe(Math.round(1 / p.scale));
    // the rounded zero point moves the covered range by at most half a step at either end
    expect(p.scale * (255 - p.zeroPoint)).toBeGreaterThanOrEqual(3 - p.scale / 2);
    expect(p.scale * p.zeroPoint).toBeGreaterThanOrEqual(1 - p.scale / 2);
  });

  it('rewrites every Conv and Add input, drops the float32 Conv weights, and stays within a few % of float32', async () => {
    const names = quantizableActivations(body, ['Conv', 'Add']);
    expect(names.length).toBeGreaterThan(10);
    const feeds = [0, 1].map((k) => ({ image: { data: image(96, 128, k + 3), shape: [1, 96, 128, 3] } }));
    const cal = await createSession(withExtraOutputs(body, names), { threads: 1 });
    const obs = new RangeObserver();
    for (const f of feeds) {
      const out = await cal.run(f, names);
      for (const n of names) obs.observe(n, out[n]!.data as Float32Array);
    }
    await cal.dispose();
    const q = quantizeConvsQdq(body, obs.ranges);

    const g = onnx.ModelProto.decode(q).graph!;
    const quantized = new Set(g.node!.filter((n) => n.opType === 'QuantizeLinear').map((n) => n.input![0]));
    for (const n of names) expect(quantized.has(n), n).toBe(true);
    const floatWeights = new Set(g.initializer!.filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT && t.dims!.length === 4).map((t) => t.name));
    for (const n of g.node!) if (n.opType === 'Conv') expect(floatWeights.has(n.input![1]!), `${n.name} weight`).toBe(false);

    const f32 = await createSession(body, { threads: 1 });
    const i8 = await createSession(q, { threads: 1 });
    const a = await f32.run(feeds[0]!);
    const b = await i8.run(feeds[0]!);
    for (const name of ['p2', 'p4', 'rpn_logits_2']) {
      const x = a[name]!.data as Float32Array;
      const y = b[name]!.data as Float32Array;
      let err = 0;
      let scale = 0;
      for (let i = 0; i < x.length; i++) {
        err += (x[i]! - y[i]!) ** 2;
        scale += x[i]! ** 2;
      }
      // Relative RMS error: int8 with per-channel weights and calibrated activations is well under 10 %.
      expect(Math.sqrt(err / scale), name).toBeLessThan(0.1);
    }
    await f32.dispose();
    await i8.dispose();
  }, 120_000);
});
