import { GraphBuilder, type GraphIO, type GraphNode, type OnnxElemType } from '../graph.ts';

/**
 * Keep-activations for a forward + backward graph: cut it into a forward graph that also outputs every
 * forward value the backward reads ("saved" values), and a backward graph that takes those values as inputs
 * instead of recomputing them. The backward then runs no forward op twice (the recompute alternative runs
 * the whole body forward again inside the backward graph).
 *
 * The forward region is `g.nodes[0..forwardCount)` (what the model and losses emitted before reverse mode);
 * a node there is computed by the forward graph when all its inputs are available at forward time
 * (`forwardInputs`, initializers, values of such nodes). Loss nodes that read host targets stay in the
 * backward graph. Saved values must be float32 or int64 (graph I/O types); a bool one (a comparison) is
 * recomputed in the backward graph from its inputs instead.
 */
export interface SplitGraphs {
  forward: { bytes: Uint8Array; inputs: readonly string[]; outputs: readonly string[] };
  backward: { bytes: Uint8Array; inputs: readonly string[] };
  /** Saved values: outputs of the forward graph and inputs of the backward graph, same names. */
  saved: readonly string[];
}

export interface SplitRequest {
  forwardCount: number;
  /** Graph inputs known when the forward runs (image, parameters). */
  forwardInputs: ReadonlySet<string>;
  /** Outputs the host reads after the forward (feature maps, RPN outputs); all must be forward-computable. */
  forwardOutputs: readonly GraphIO[];
  /** Outputs of the backward graph (losses, gradients). */
  backwardOutputs: readonly GraphIO[];
  docString?: string;
}

/** Element type of every value whose type follows from the graph's inputs and ops (undefined: bool or unknown). */
function inferTypes(g: GraphBuilder, upTo: number): Map<string, OnnxElemType | 'bool'> {
  const types = new Map<string, OnnxElemType | 'bool'>();
  for (const i of g.inputs) types.set(i.name, i.type);
  for (const [name, t] of g.initializers) types.set(name, t.type);
  const fromCast = (to: number): OnnxElemType | 'bool' | undefined => (to === 1 ? 'float32' : to === 7 ? 'int64' : to === 9 ? 'bool' : undefined);
  const comparisons = new Set(['Less', 'Greater', 'Equal', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
  for (let k = 0; k < upTo; k++) {
    const n = g.nodes[k]!;
    let t: OnnxElemType | 'bool' | undefined;
    if (n.opType === 'Shape' || n.opType === 'Size' || n.opType === 'ArgMax' || n.opType === 'ArgMin' || n.opType === 'NonZero') t = 'int64';
    else if (n.opType === 'Cast') t = fromCast('i' in (n.attrs.to ?? {}) ? (n.attrs.to as { i: number }).i : 0);
    else if (comparisons.has(n.opType)) t = 'bool';
    else if (n.opType === 'ConstantOfShape') t = n.attrs.value ? undefined : 'float32';
    else if (n.opType === 'Where') t = types.get(n.inputs[1]!);
    else t = types.get(n.inputs.find((i) => i !== '') ?? '');
    n.outputs.forEach((o, j) => {
      if (n.opType === 'MaxPool' && j === 1) types.set(o, 'int64');
      else if (n.opType === 'TopK' && j === 1) types.set(o, 'int64');
      else if (t) types.set(o, t);
    });
  }
  return types;
}

function ioOf(g: GraphBuilder, name: string, type: OnnxElemType): GraphIO {
  const dims = g.dimsOf(name);
  return dims ? { name, type, dims, dimNames: dims.map((_, i) => `${name}_d${i}`) } : { name, type, dims: [], shapeUnknown: true };
}

/** Serialize `nodes` (topological) with `outputs`; declares exactly the graph inputs the kept nodes read. */
function emit(g: GraphBuilder, nodes: readonly GraphNode[], inputs: readonly GraphIO[], outputs: readonly GraphIO[], docString: string): Uint8Array {
  const sub = new GraphBuilder();
  sub.nodes.push(...nodes);
  for (const [k, v] of g.initializers) sub.initializers.set(k, v);
  sub.outputs.push(...outputs);
  // Only inputs a live node (or an output) reads: ORT insists on a feed for every declared input.
  const read = new Set<string>(outputs.map((o) => o.name));
  const needed = new Set(outputs.map((o) => o.name));
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    for (const i of n.inputs) {
      if (i === '') continue;
      needed.add(i);
      read.add(i);
    }
  }
  sub.inputs.push(...inputs.filter((i) => read.has(i.name)));
  return sub.toModelBytes({ docString });
}

export function splitForwardBackward(g: GraphBuilder, request: SplitRequest): SplitGraphs {
  const { forwardCount } = request;
  const types = inferTypes(g, g.nodes.length);
  // Values the forward graph can compute.
  const available = new Set<string>([...request.forwardInputs, ...g.initializers.keys()]);
  const forwardNode = new Array<boolean>(forwardCount).fill(false);
  for (let k = 0; k < forwardCount; k++) {
    const n = g.nodes[k]!;
    if (n.inputs.every((i) => i === '' || available.has(i))) {
      forwardNode[k] = true;
      for (const o of n.outputs) available.add(o);
    }
  }
  // Walk the backward graph's needs from its outputs; cut at forward values (saved) unless they are bool.
  const needed = new Set(request.backwardOutputs.map((o) => o.name));
  const saved: string[] = [];
  const savedSet = new Set<string>();
  const keep = new Array<boolean>(g.nodes.length).fill(false);
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k]!;
    const wanted = n.outputs.filter((o) => needed.has(o));
    if (wanted.length === 0) continue;
    const saveable = k < forwardCount && forwardNode[k] && wanted.every((o) => types.get(o) === 'float32' || types.get(o) === 'int64');
    if (saveable) {
      for (const o of wanted) {
        if (savedSet.has(o)) continue;
        savedSet.add(o);
        saved.push(o);
      }
      continue;
    }
    keep[k] = true;
    for (const i of n.inputs) if (i !== '') needed.add(i);
  }
  const savedIO = saved.map((s) => ioOf(g, s, types.get(s) as OnnxElemType));
  const forwardIO = request.forwardOutputs.filter((o) => !savedSet.has(o.name));
  const forwardBytes = emit(
    g,
    g.nodes.slice(0, forwardCount).filter((_, k) => forwardNode[k]),
    g.inputs.filter((i) => request.forwardInputs.has(i.name)),
    [...forwardIO, ...savedIO],
    `${request.docString ?? 'training stage'}: forward, saving ${saved.length} values for the backward`,
  );
  const backwardNodes = g.nodes.filter((_, k) => keep[k]);
  const backwardInputs = [...g.inputs.filter((i) => !savedSet.has(i.name)), ...savedIO];
  const backwardBytes = emit(g, backwardNodes, backwardInputs, request.backwardOutputs, `${request.docString ?? 'training stage'}: backward from saved forward values`);
  const readBy = (nodes: readonly GraphNode[]) => new Set(nodes.flatMap((n) => n.inputs));
  const fwdRead = readBy(g.nodes.slice(0, forwardCount).filter((_, k) => forwardNode[k]));
  const bwdRead = readBy(backwardNodes);
  return {
    forward: { bytes: forwardBytes, inputs: g.inputs.filter((i) => request.forwardInputs.has(i.name) && fwdRead.has(i.name)).map((i) => i.name), outputs: [...forwardIO.map((o) => o.name), ...saved] },
    backward: { bytes: backwardBytes, inputs: backwardInputs.filter((i) => bwdRead.has(i.name) || request.backwardOutputs.some((o) => o.name === i.name)).map((i) => i.name) },
    saved,
  };
}
