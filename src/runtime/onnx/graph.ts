import onnxProto from 'onnx-proto';
import { DensePoseError } from '../../errors.ts';

const { onnx } = onnxProto;

/** ONNX opset the exporter targets (Resize/DepthToSpace/Softmax semantics as of opset 13+). */
export const ONNX_OPSET = 17;
/** IR version that goes with opset 17. */
export const ONNX_IR_VERSION = 8;

/** An attribute value; floats are tagged because JS numbers do not say whether they are ints. */
export type OnnxAttr = { i: number } | { f: number } | { ints: readonly number[] } | { floats: readonly number[] } | { s: string };

export type OnnxElemType = 'float32' | 'int64';

/** A constant tensor stored in the graph (weights, shape constants). */
export interface Initializer {
  name: string;
  dims: readonly number[];
  type: OnnxElemType;
  data: Float32Array | BigInt64Array;
}

export interface GraphNode {
  opType: string;
  /** Input value names; `''` marks an omitted optional input (Resize's roi). */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
  name: string;
}

export interface GraphIO {
  name: string;
  /** Dims; -1 = dynamic, written as a symbolic `dim_param`. */
  dims: readonly number[];
  type: OnnxElemType;
  /** Symbolic names for the dynamic dims (same length as dims), so shared axes share a name. */
  dimNames?: readonly string[];
  /** The rank is not known either (`dims` ignored): no shape is declared. */
  shapeUnknown?: boolean;
}

/**
 * A growing ONNX graph: nodes in topological order (each is appended after its inputs exist),
 * initializers by name, fresh value names. `toModelBytes` prunes whatever the outputs do not
 * reach, so executors can emit speculative nodes (e.g. a conv later replaced by its BN-folded twin).
 */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: GraphIO[] = [];
  readonly outputs: GraphIO[] = [];
  /** Value name → index of the producing node. */
  private readonly producers = new Map<string, number>();
  /** Value name → how many node inputs read it so far. */
  private readonly useCounts = new Map<string, number>();
  private readonly counters = new Map<string, number>();
  private readonly constCache = new Map<string, string>();
  /** Static dims (graph layout, -1 = dynamic) of values whose producers recorded them; reverse mode reads them to undo broadcasting. */
  readonly valueDims = new Map<string, readonly number[]>();

  /** Record the dims of a value (see `valueDims`); returns the name. */
  setDims(value: string, dims: readonly number[]): string {
    this.valueDims.set(value, dims);
    return value;
  }

  /** Dims of a value: recorded, an initializer's, or a graph input's; undefined when unknown. */
  dimsOf(value: string): readonly number[] | undefined {
    return this.valueDims.get(value) ?? this.initializers.get(value)?.dims ?? this.inputs.find((i) => i.name === value)?.dims;
  }

  /** A name not used yet, `prefix_N`. */
  fresh(prefix: string): string {
    const n = this.counters.get(prefix) ?? 0;
    this.counters.set(prefix, n + 1);
    return `${prefix}_${n}`;
  }

  /** Append a node; returns its output names (fresh ones unless given). */
  node(opType: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}, outputs?: string[]): string[] {
    const name = this.fresh(opType);
    const outs = outputs ?? [`${name}_out`];
    for (const i of inputs) if (i !== '') this.useCounts.set(i, (this.useCounts.get(i) ?? 0) + 1);
    const index = this.nodes.length;
    this.nodes.push({ opType, inputs, outputs: outs, attrs, name });
    for (const o of outs) this.producers.set(o, index);
    return outs;
  }

  /** Single-output shorthand for `node`. */
  op(opType: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}): string {
    return this.node(opType, inputs, attrs)[0]!;
  }

  producer(value: string): GraphNode | undefined {
    const i = this.producers.get(value);
    return i === undefined ? undefined : this.nodes[i];
  }

  uses(value: string): number {
    return this.useCounts.get(value) ?? 0;
  }

  /** Register an initializer; a second registration under the same name must carry the same dims. */
  addInitializer(init: Initializer): string {
    const prev = this.initializers.get(init.name);
    if (prev) {
      if (prev.dims.length !== init.dims.length || prev.dims.some((d, i) => d !== init.dims[i])) {
        throw new DensePoseError('SHAPE_MISMATCH', `ONNX initializer "${init.name}" registered twice with dims [${prev.dims.join(',')}] and [${init.dims.join(',')}]`);
      }
      return init.name;
    }
    this.initializers.set(init.name, init);
    return init.name;
  }

  hasInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  /** An int64 constant (shape vectors, axes), shared between users. */
  constInt64(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name = this.addInitializer({ name: this.fresh('const_i64'), dims: [values.length], type: 'int64', data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.constCache.set(key, name);
    return name;
  }

  /** A float32 constant of the given dims. */
  constFloat(values: readonly number[] | Float32Array, dims: readonly number[]): string {
    const arr = values instanceof Float32Array ? values : Float32Array.from(values);
    const key = `f32:${dims.join('x')}:${arr.join(',')}`;
    const cached = arr.length <= 64 ? this.constCache.get(key) : undefined;
    if (cached) return cached;
    const name = this.addInitializer({ name: this.fresh('const_f32'), dims, type: 'float32', data: arr });
    if (arr.length <= 64) this.constCache.set(key, name);
    return name;
  }

  /** Serialize as an ONNX ModelProto, keeping only nodes and initializers that reach the outputs. */
  toModelBytes(options: { producerName?: string; docString?: string } = {}): Uint8Array {
    const live = this.liveNodes();
    const used = new Set<string>();
    for (const n of live) for (const i of n.inputs) used.add(i);
    for (const o of this.outputs) used.add(o.name);
    const inits = [...this.initializers.values()].filter((t) => used.has(t.name));
    const model: onnxProto.onnx.IModelProto = {
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: options.producerName ?? 'densepose-ts',
      producerVersion: '0.1.0',
      docString: options.docString ?? '',
      graph: {
        name: 'densepose',
        node: live.map((n) => ({ opType: n.opType, name: n.name, input: n.inputs, output: n.outputs, attribute: Object.entries(n.attrs).map(([k, v]) => encodeAttr(k, v)) })),
        initializer: inits.map(encodeTensor),
        input: this.inputs.map(encodeIO),
        output: this.outputs.map(encodeIO),
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private liveNodes(): GraphNode[] {
    const needed = new Set(this.outputs.map((o) => o.name));
    const keep = new Array<boolean>(this.nodes.length).fill(false);
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k]!;
      if (!n.outputs.some((o) => needed.has(o))) continue;
      keep[k] = true;
      for (const i of n.inputs) if (i !== '') needed.add(i);
    }
    return this.nodes.filter((_, k) => keep[k]);
  }
}

const ELEM: Record<OnnxElemType, number> = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

function encodeTensor(t: Initializer): onnxProto.onnx.ITensorProto {
  // raw_data is little-endian; every platform Node runs on here is little-endian, so the view is the payload.
  return { name: t.name, dims: [...t.dims], dataType: ELEM[t.type], rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

function encodeIO(io: GraphIO): onnxProto.onnx.IValueInfoProto {
  return {
    name: io.name,
    type: {
      tensorType: {
        elemType: ELEM[io.type],
        shape: io.shapeUnknown ? null : { dim: io.dims.map((d, i) => (d >= 0 ? { dimValue: d } : { dimParam: io.dimNames?.[i] ?? `${io.name}_dim${i}` })) },
      },
    },
  };
}

function encodeAttr(name: string, v: OnnxAttr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in v) return { name, type: T.INT, i: v.i };
  if ('f' in v) return { name, type: T.FLOAT, f: v.f };
  if ('ints' in v) return { name, type: T.INTS, ints: [...v.ints] };
  if ('floats' in v) return { name, type: T.FLOATS, floats: [...v.floats] };
  return { name, type: T.STRING, s: new TextEncoder().encode(v.s) };
}
