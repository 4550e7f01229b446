// Static int8 quantisation of an exported float32 graph, in ONNX Runtime's QDQ form: every Conv gets
// QuantizeLinear → DequantizeLinear on its activation input (uint8, calibrated range), its weight as an
// int8 per-output-channel initializer behind DequantizeLinear, and its bias as int32 (scale x·w).
// ORT's graph optimiser fuses DQ → Conv (→ Relu) → Q into QLinearConv, which MLAS runs with the CPU's
// int8 dot-product instructions (AVX-512 VNNI / AVX-VNNI here). The float32 model is unchanged.
import onnxProto from 'onnx-proto';
import { DensePoseError } from '../../errors.ts';

const { onnx } = onnxProto;
type Model = onnxProto.onnx.ModelProto;
type Tensor = onnxProto.onnx.ITensorProto;
const DT = onnx.TensorProto.DataType;

/**
 * Ops whose activation inputs are quantised: Conv (input 0; its weights and bias too) and Add (both inputs,
 * so residual and FPN sums run as QLinearAdd and the convs before them can end in a Q).
 */
export const QUANTIZABLE_OPS = ['Conv', 'Add'] as const;
export type QuantizableOp = (typeof QUANTIZABLE_OPS)[number];

/** Observed range of one activation tensor. */
export interface ActivationRange {
  min: number;
  max: number;
}

function decode(model: Uint8Array): Model {
  try {
    return onnx.ModelProto.decode(model);
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `quantize: not an ONNX model (${(e as Error).message})`, { cause: e });
  }
}

function graphOf(m: Model): onnxProto.onnx.IGraphProto {
  if (!m.graph) throw new DensePoseError('BAD_FILE', 'quantize: the model has no graph');
  return m.graph;
}

/** Activation tensors feeding the quantisable nodes of `ops`, in graph order, unique (initializers excluded). */
export function quantizableActivations(model: Uint8Array, ops: readonly QuantizableOp[] = ['Conv']): string[] {
  const g = graphOf(decode(model));
  const inits = new Set((g.initializer ?? []).map((t) => t.name!));
  const seen = new Set<string>();
  for (const n of g.node ?? []) {
    if (!(ops as readonly string[]).includes(n.opType!)) continue;
    const inputs = n.opType === 'Conv' ? (n.input ?? []).slice(0, 1) : (n.input ?? []);
    for (const x of inputs) if (x && !inits.has(x)) seen.add(x);
  }
  return [...seen];
}

/** The model with `names` added as float32 graph outputs (for calibration runs). */
export function withExtraOutputs(model: Uint8Array, names: readonly string[]): Uint8Array {
  const m = decode(model);
  const g = graphOf(m);
  const have = new Set((g.output ?? []).map((o) => o.name));
  g.output = [...(g.output ?? []), ...names.filter((n) => !have.has(n)).map((name) => ({ name, type: { tensorType: { elemType: DT.FLOAT } } }))];
  return onnx.ModelProto.encode(m).finish();
}

/** Running min/max of activation tensors over calibration batches. */
export class RangeObserver {
  readonly ranges = new Map<string, ActivationRange>();
  observe(name: string, data: Float32Array): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const r = this.ranges.get(name);
    if (r) {
      r.min = Math.min(r.min, lo);
      r.max = Math.max(r.max, hi);
    } else this.ranges.set(name, { min: lo, max: hi });
  }
}

function floatData(t: Tensor): Float32Array {
  if (t.dataType !== DT.FLOAT) throw new DensePoseError('UNSUPPORTED', `quantize: initializer "${t.name}" is not float32`);
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

function raw(data: Int8Array | Uint8Array | Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** uint8 affine parameters of a range (the range is widened to include 0, so 0 is exact). */
export function uint8Params(r: ActivationRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(r.min, 0);
  const hi = Math.max(r.max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale: Math.fround(scale), zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/**
 * The QDQ int8 form of `model`: every activation with a range in `ranges` gets QuantizeLinear →
 * DequantizeLinear right after its producer and all its readers read the dequantised twin (so the producer
 * can fuse with the Q); each Conv reading a quantised input also gets int8 weights (symmetric, per output
 * channel) and an int32 bias at scale x·w. Graph outputs keep reading the float32 value.
 */
export function quantizeConvsQdq(model: Uint8Array, ranges: ReadonlyMap<string, ActivationRange>): Uint8Array {
  const m = decode(model);
  const g = graphOf(m);
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t] as const));
  const nodes = g.node ?? [];
  const dq = new Map<string, string>(); // activation → its dequantised twin
  const act = new Map<string, { scale: number; zeroPoint: number }>();
  const pre: onnxProto.onnx.INodeProto[] = [];
  const added: Tensor[] = [];
  let counter = 0;
  const fresh = (p: string) => `${p}__q${counter++}`;
  const scalar = (name: string, type: number, value: number): string => {
    const data = type === DT.FLOAT ? Float32Array.of(value) : Uint8Array.of(value);
    added.push({ name, dims: [], dataType: type, rawData: raw(data) });
    return name;
  };
  for (const [x, r] of ranges) {
    if (inits.has(x)) continue;
    act.set(x, uint8Params(r));
    dq.set(x, `${x}__dq`);
  }
  const qdqOf = (x: string): onnxProto.onnx.INodeProto[] => {
    const p = act.get(x)!;
    const s = scalar(fresh(`${x}_scale`), DT.FLOAT, p.scale);
    const z = scalar(fresh(`${x}_zp`), DT.UINT8, p.zeroPoint);
    const q = `${x}__quant`;
    return [
      { opType: 'QuantizeLinear', name: fresh('Q'), input: [x, s, z], output: [q] },
      { opType: 'DequantizeLinear', name: fresh('DQ'), input: [q, s, z], output: [dq.get(x)!] },
    ];
  };
  const out: onnxProto.onnx.INodeProto[] = [];
  for (const i of g.input ?? []) if (act.has(i.name!)) out.push(...qdqOf(i.name!));
  for (const n of nodes) {
    const x = n.input?.[0];
    const w = n.input?.[1];
    if (n.opType === 'Conv' && x && act.has(x) && w && inits.has(w)) {
      const wt = inits.get(w)!;
      const wf = floatData(wt);
      const co = Number(wt.dims![0]);
      const per = wf.length / co;
      const wq = new Int8Array(wf.length);
      const ws = new Float32Array(co);
      for (let c = 0; c < co; c++) {
        let mx = 0;
        for (let i = c * per; i < (c + 1) * per; i++) mx = Math.max(mx, Math.abs(wf[i]!));
        const s = mx > 0 ? mx / 127 : 1;
        ws[c] = s;
        for (let i = c * per; i < (c + 1) * per; i++) wq[i] = Math.max(-127, Math.min(127, Math.round(wf[i]! / ws[c]!)));
      }
      const wqName = fresh(`${w}_int8`);
      const wsName = fresh(`${w}_scale`);
      const wzName = fresh(`${w}_zp`);
      added.push({ name: wqName, dims: wt.dims, dataType: DT.INT8, rawData: raw(wq) });
      added.push({ name: wsName, dims: [co], dataType: DT.FLOAT, rawData: raw(ws) });
      added.push({ name: wzName, dims: [co], dataType: DT.INT8, rawData: raw(new Int8Array(co)) });
      const wdq = fresh(`${w}_dq`);
      pre.push({ opType: 'DequantizeLinear', name: fresh('DQw'), input: [wqName, wsName, wzName], output: [wdq], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
      const inputs = [dq.get(x)!, wdq];
      // (input 0 only: a Conv's other inputs are initializers)
      const b = n.input?.[2];
      if (b && inits.has(b)) {
        const bf = floatData(inits.get(b)!);
        const sx = act.get(x)!.scale;
        const bs = Float32Array.from(ws, (s) => s * sx);
        const bq = Int32Array.from(bf, (v, c) => Math.round(v / bs[c]!));
        const bqName = fresh(`${b}_int32`);
        const bsName = fresh(`${b}_scale`);
        added.push({ name: bqName, dims: [co], dataType: DT.INT32, rawData: raw(bq) });
        added.push({ name: bsName, dims: [co], dataType: DT.FLOAT, rawData: raw(bs) });
        const bdq = fresh(`${b}_dq`);
        pre.push({ opType: 'DequantizeLinear', name: fresh('DQb'), input: [bqName, bsName], output: [bdq], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
        inputs.push(bdq);
      } else if (b) inputs.push(b);
      out.push({ ...n, input: inputs });
    } else {
      out.push({ ...n, input: (n.input ?? []).map((i) => dq.get(i) ?? i) });
    }
    for (const o of n.output ?? []) if (act.has(o)) out.push(...qdqOf(o));
  }
  g.node = [...pre, ...out];
  // The float32 weights the int8 ones replace are read by nothing now: drop them.
  const read = new Set(g.node.flatMap((n) => n.input ?? []));
  g.initializer = [...(g.initializer ?? []), ...added].filter((t) => read.has(t.name!));
  // QuantizeLinear/DequantizeLinear per-axis forms need opset ≥ 13; the exporter writes 17.
  return onnx.ModelProto.encode(m).finish();
}
