import type { Parameter } from '../../parameter.ts';
import type { ParameterInput } from '../onnx-executor.ts';
import { hwioToOihw, oihwToHwio } from '../weights.ts';
import { createSession, type OnnxSession, type OnnxTensor, type SessionOptions } from '../session.ts';
import type { TrainStage } from './train-graph.ts';

/** What one run of a training stage gives back. */
export interface StageRunResult {
  losses: Record<string, number>;
  /** Parameter name → gradient (our layout, row-major). */
  grads: Map<string, Float32Array>;
  /** Stage input name → gradient (NHWC). */
  inputGrads: Map<string, OnnxTensor>;
  /** Seeded and plain outputs by name (and saved values of a keep-activations forward). */
  outputs: Record<string, OnnxTensor>;
}

/** Float32 values of a parameter (a copy out of its tfjs backend). */
export function parameterValues(p: Parameter): Float32Array {
  const d = p.variable.dataSync();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}

/** A parameter's current value as its graph input wants it (conv weights OIHW). */
export function parameterFeed(input: ParameterInput): OnnxTensor {
  const p = input.parameter;
  const values = parameterValues(p);
  if (input.layout === 'asis') return { data: values, shape: p.shape };
  const { data, dims } = hwioToOihw(values, p.shape);
  return { data, shape: dims };
}

/** An ORT session on a training stage that feeds the current parameter values on every run. */
export class StageSession {
  private constructor(
    readonly stage: TrainStage,
    private readonly session: OnnxSession,
  ) {}

  static async create(stage: TrainStage, options: SessionOptions = {}): Promise<StageSession> {
    return new StageSession(stage, await createSession(stage.bytes, options));
  }

  get executionProvider(): string {
    return this.session.executionProvider;
  }

  /**
   * Run with `feeds` (stage inputs, host targets, seeds) plus every parameter's current value.
   * `parameterFeeds` may bring values already copied out this step (shared between stages).
   */
  async run(feeds: Record<string, OnnxTensor>, parameterFeeds?: ReadonlyMap<string, OnnxTensor>): Promise<StageRunResult> {
    const all: Record<string, OnnxTensor> = { ...feeds };
    for (const [name, input] of this.stage.parameterInputs) all[name] = parameterFeeds?.get(name) ?? parameterFeed(input);
    const out = await this.session.run(all);
    const losses: Record<string, number> = {};
    for (const n of this.stage.lossNames) losses[n] = (out[n]!.data as Float32Array)[0]!;
    const grads = new Map<string, Float32Array>();
    for (const [p, o] of this.stage.gradientOutputs) {
      const input = this.stage.parameterInputs.get(p)!;
      const g = out[o]!.data as Float32Array;
      grads.set(p, input.layout === 'oihw' ? oihwToHwio(g, input.parameter.shape) : g);
    }
    const inputGrads = new Map<string, OnnxTensor>();
    for (const [i, o] of this.stage.inputGradientOutputs) inputGrads.set(i, out[o]!);
    const outputs: Record<string, OnnxTensor> = {};
    for (const n of [...this.stage.seededNames, ...this.stage.outputNames, ...(this.stage.savedNames ?? [])]) outputs[n] = out[n]!;
    return { losses, grads, inputGrads, outputs };
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}
