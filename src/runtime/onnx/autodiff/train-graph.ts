import { DensePoseError } from '../../../errors.ts';
import type { Module } from '../../module.ts';
import type { OnnxInputSpec } from '../export.ts';
import type { OnnxElemType } from '../graph.ts';
import { OnnxExecutor, type OnnxValue, type ParameterInput } from '../onnx-executor.ts';
import { addGradientsReport } from './reverse.ts';
import { splitForwardBackward } from './split.ts';

/** Prefix of the graph outputs holding parameter gradients: `grad.<parameter name>` (our layout, e.g. HWIO). */
export const GRAD_PREFIX = 'grad.';
/** Prefix of the graph inputs carrying gradients of stage outputs from a later stage (NHWC). */
export const SEED_PREFIX = 'seed.';

/** What a training stage's build function returns. */
export interface TrainStageResult {
  /** Named scalar losses (values of the graph); their sum is differentiated. Each also becomes an output. */
  losses?: Record<string, string>;
  /**
   * Stage outputs a later stage differentiates through (feature maps, NCHW inside): each becomes an NHWC
   * graph output `name`, and a graph input `seed.<name>` (NHWC, same shape) brings back dL/d(output).
   */
  seeded?: Record<string, OnnxValue>;
  /** Plain outputs (no gradient flows back into them), NHWC for feature maps. */
  outputs?: Record<string, OnnxValue>;
}

export interface TrainStageSpec {
  /** Module naming every parameter (the model root). */
  root: Module;
  /** Feature inputs of the stage (NHWC unless said), as for `exportOnnx`. */
  inputs: readonly OnnxInputSpec[];
  /** Names of `inputs` whose gradients the stage returns (outputs `grad.<input>`, NHWC). */
  inputGradients?: readonly string[];
  /** Emit the forward and losses; `host` declares extra graph inputs (targets from the host). */
  build(ex: OnnxExecutor, inputs: OnnxValue[], host: HostInputs): TrainStageResult;
  docString?: string;
  /** Emit gradients (false: a forward-only graph with parameters as inputs). @default true */
  gradients?: boolean;
}

/** Declares graph inputs the host feeds every step (targets, index lists, masks), any rank and dtype. */
export interface HostInputs {
  /** A graph input of the given dims (-1 dynamic), in its natural layout (not transposed). Returns its name. */
  tensor(name: string, dims: readonly number[], type?: OnnxElemType): string;
}

/** A forward + loss + backward graph and the names to feed and read. */
export interface TrainStage {
  bytes: Uint8Array;
  /** Graph input name → parameter fed from the module each step (and its layout). */
  parameterInputs: ReadonlyMap<string, ParameterInput>;
  lossNames: readonly string[];
  /** Parameter name → gradient output name; only parameters the losses reach (tfjs skips the others too). */
  gradientOutputs: ReadonlyMap<string, string>;
  /** Stage input name → gradient output name. */
  inputGradientOutputs: ReadonlyMap<string, string>;
  /** Seeded output names (their seeds are `seed.<name>` inputs). */
  seededNames: readonly string[];
  outputNames: readonly string[];
  /** Keep-activations: forward values the forward stage outputs and the backward stage takes as inputs. */
  savedNames?: readonly string[];
}

/** A training stage cut in two (`buildSplitTrainStage`): the forward saves what the backward reads. */
export interface SplitTrainStage {
  /** Stage inputs → seeded and plain outputs + saved values; no losses, no gradients. */
  forward: TrainStage;
  /** Saved values + host inputs + seeds → losses and gradients (no forward op run again). */
  backward: TrainStage;
}

/**
 * Emit one training stage: the model's forward through `OnnxExecutor` with trainable parameters as graph
 * inputs, the losses, and reverse mode over the whole thing, so that ONNX Runtime computes losses and all
 * gradients in one session run. Shapes stay dynamic wherever the inputs are.
 */
export function buildTrainStage(spec: TrainStageSpec): TrainStage {
  const t = emitTrainGraph(spec);
  return { ...t.stage, bytes: t.ex.graph.toModelBytes({ docString: spec.docString ?? 'training stage: forward + losses + gradients' }) };
}

/**
 * {@link buildTrainStage} as two graphs (keep-activations): the forward outputs every forward value the
 * gradients read, and the backward takes them as inputs instead of running the forward again.
 */
export function buildSplitTrainStage(spec: TrainStageSpec): SplitTrainStage {
  const { ex, stage, forwardCount } = emitTrainGraph({ ...spec, gradients: true });
  const g = ex.graph;
  const hostVisible = new Set([...stage.seededNames, ...stage.outputNames]);
  const forwardInputs = new Set([...spec.inputs.map((i) => i.name), ...stage.parameterInputs.keys()]);
  const split = splitForwardBackward(g, {
    forwardCount,
    forwardInputs,
    forwardOutputs: g.outputs.filter((o) => hostVisible.has(o.name)),
    backwardOutputs: g.outputs.filter((o) => !hostVisible.has(o.name)),
    docString: spec.docString,
  });
  return {
    forward: { ...stage, bytes: split.forward.bytes, lossNames: [], gradientOutputs: new Map(), inputGradientOutputs: new Map(), savedNames: split.saved },
    backward: { ...stage, bytes: split.backward.bytes, seededNames: [], outputNames: [] },
  };
}

/** The graph of a training stage (forward, losses, gradients) before serialization. */
function emitTrainGraph(spec: TrainStageSpec): { ex: OnnxExecutor; stage: Omit<TrainStage, 'bytes'>; forwardCount: number } {
  const ex = new OnnxExecutor(spec.root, { trainableInputs: true, foldBatchNorm: false });
  const g = ex.graph;
  const inputs = spec.inputs.map((s) => ex.input(s.name, s.shape, s.layout ?? 'NHWC'));
  const host: HostInputs = {
    tensor(name, dims, type = 'float32') {
      g.inputs.push({ name, dims: [...dims], type, dimNames: dims.map((_, i) => `${name}_d${i}`) });
      return g.setDims(name, dims);
    },
  };
  const result = spec.build(ex, inputs, host);
  const losses = Object.entries(result.losses ?? {});
  const seeds: { value: string; grad: string }[] = [];
  const seededNames: string[] = [];
  const outputNames: string[] = [];
  for (const [name, v] of Object.entries(result.seeded ?? {})) {
    ex.output(v, name);
    const [n, h, w, c] = ex.shape(v) as [number, number, number, number];
    const seed = ex.input(`${SEED_PREFIX}${name}`, [n, h, w, c]);
    seeds.push({ value: v.name, grad: seed.name });
    seededNames.push(name);
  }
  for (const [name, v] of Object.entries(result.outputs ?? {})) {
    ex.output(v, name);
    outputNames.push(name);
  }
  for (const [name, value] of losses) {
    g.node('Identity', [value], {}, [name]);
    g.outputs.push({ name, dims: [], type: 'float32' });
  }
  const params = [...ex.parameterInputs.keys()];
  const inputGrads = spec.inputGradients ?? [];
  for (const name of inputGrads) {
    if (!spec.inputs.some((s) => s.name === name)) throw new DensePoseError('BAD_OPTION', `buildTrainStage: inputGradients names "${name}", which is not a stage input`);
  }
  const gradientOutputs = new Map<string, string>();
  const inputGradientOutputs = new Map<string, string>();
  const forwardCount = g.nodes.length;
  if (spec.gradients ?? true) {
    const { grads, reached } = addGradientsReport(g, { losses: losses.map(([, v]) => v), seeds, wrt: [...params, ...inputGrads] });
    const emit = (wrt: string, into: Map<string, string>) => {
      const out = `${GRAD_PREFIX}${wrt}`;
      g.node('Identity', [grads.get(wrt)!], {}, [out]);
      g.outputs.push({ name: out, dims: g.dimsOf(wrt) ?? [], type: 'float32' });
      into.set(wrt, out);
    };
    for (const p of params) if (reached.has(p)) emit(p, gradientOutputs);
    for (const i of inputGrads) emit(i, inputGradientOutputs);
  }
  return {
    ex,
    forwardCount,
    stage: { parameterInputs: ex.parameterInputs, lossNames: losses.map(([n]) => n), gradientOutputs, inputGradientOutputs, seededNames, outputNames },
  };
}
