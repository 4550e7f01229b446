import { DensePoseError } from '../../../errors.ts';
import type { GraphBuilder, GraphNode } from '../graph.ts';
import { ADJOINTS, type AdjointContext } from './adjoints.ts';

/**
 * Reverse-mode differentiation over an ONNX graph under construction. The forward is whatever the
 * executors (OnnxExecutor, the loss ops) appended to `graph`; this walks those nodes backwards and
 * appends, for each one on the path from `wrt` to the seeds, the ONNX nodes of its adjoint
 * (`adjoints.ts`). The result is one graph computing forward and gradients together.
 */
export interface GradientRequest {
  /** Scalar values whose sum is differentiated (each seeded with 1). */
  losses?: readonly string[];
  /** Further seeds: `grad` holds dL/d`value` (same shape), e.g. feature gradients a later stage sent back. */
  seeds?: readonly { value: string; grad: string }[];
  /** Values (graph inputs: trainable parameters, stage inputs) to return gradients for. */
  wrt: readonly string[];
}

/** Gradient value names by wrt name; `reached` lists those a path from the seeds reaches (the rest are zeros). */
export interface Gradients {
  grads: Map<string, string>;
  reached: Set<string>;
}

/** Append the gradient nodes; returns wrt name → name of its gradient value (zeros where no path leads). */
export function addGradients(graph: GraphBuilder, request: GradientRequest): Map<string, string> {
  return addGradientsReport(graph, request).grads;
}

/** {@link addGradients}, also saying which wrt values the seeds reach. */
export function addGradientsReport(graph: GraphBuilder, request: GradientRequest): Gradients {
  const nodes = graph.nodes.slice();
  const wrt = new Set(request.wrt);
  // Values that depend on some wrt value (only they can carry a gradient).
  const live = new Set<string>(request.wrt);
  for (const n of nodes) if (n.inputs.some((i) => live.has(i))) for (const o of n.outputs) live.add(o);

  const grads = new Map<string, string>();
  const accumulate = (value: string, g: string) => {
    const prev = grads.get(value);
    grads.set(value, prev ? graph.op('Add', [prev, g]) : g);
  };
  for (const loss of request.losses ?? []) {
    if (!live.has(loss)) continue;
    accumulate(loss, graph.op('Expand', [graph.constFloat([1], []), graph.op('Shape', [loss])]));
  }
  for (const s of request.seeds ?? []) if (live.has(s.value)) accumulate(s.value, s.grad);

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const dy = node.outputs.map((o) => grads.get(o));
    if (dy.every((d) => d === undefined)) continue;
    const need = node.inputs.map((i) => i !== '' && live.has(i));
    if (!need.some(Boolean)) continue;
    const rule = ADJOINTS[node.opType];
    if (!rule) throw new DensePoseError('UNSUPPORTED', `ONNX reverse mode: no adjoint for ${node.opType} (node ${node.name}); add one to autodiff/adjoints.ts`);
    const ctx: AdjointContext = { g: graph, node, dy, need, dims: (v) => graph.dimsOf(v) };
    const dx = rule(ctx);
    node.inputs.forEach((input, i) => {
      const d = dx[i];
      if (d !== undefined && need[i]) accumulate(input, d);
    });
    // Gradients of this node's outputs are no longer needed (keeps the map small).
    for (const o of node.outputs) if (!wrt.has(o)) grads.delete(o);
  }

  const out = new Map<string, string>();
  const reached = new Set<string>();
  for (const w of request.wrt) {
    const gw = grads.get(w);
    if (gw) reached.add(w);
    out.set(w, gw ?? zerosLike(graph, w));
  }
  return { grads: out, reached };
}

function zerosLike(graph: GraphBuilder, value: string): string {
  // ConstantOfShape's default value is float 0.
  return graph.op('ConstantOfShape', [graph.op('Shape', [value])]);
}

/** For tests and messages: the forward node that produced a value. */
export function producerOf(graph: GraphBuilder, value: string): GraphNode | undefined {
  return graph.producer(value);
}
