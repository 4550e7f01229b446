import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../errors.ts';
import { Parameter } from './parameter.ts';

/** A plain array value as checkpoint readers return it (layout already ours). */
export interface ArrayValue {
  shape: readonly number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;
}

export type StateValue = tf.Tensor | ArrayValue;

export interface LoadReport {
  /** Parameters of the module that the state dict lacks. */
  missing: string[];
  /** State dict entries no parameter has. */
  unexpected: string[];
  /** Entries whose shape differs: `name: got [..], expected [..]`. */
  mismatched: string[];
  loaded: number;
}

export interface LoadStateDictOptions {
  /** Throw on any missing/unexpected/mismatched key. @default true */
  strict?: boolean;
  /** Name of the source, for messages (a file path). */
  source?: string;
}

/**
 * Base of every model part: named parameters and child modules in detectron2's dotted style
 * (`backbone.bottom_up.res2.0.conv1.weight`), train/eval mode, state dict I/O.
 * Forward functions live on subclasses and are written once against an `Executor`, so the same
 * definition runs in tfjs (training) and emits ONNX (inference).
 */
export class Module {
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();
  training = false;

  /** Register a parameter under `name` (no dots). Returns it for the subclass to keep. */
  protected addParameter(name: string, initial: tf.Tensor, options: { trainable?: boolean } = {}): Parameter {
    if (name.includes('.')) throw new DensePoseError('BAD_OPTION', `parameter name "${name}" must not contain dots`);
    if (this.ownParameters.has(name) || this.children.has(name)) throw new DensePoseError('BAD_OPTION', `duplicate member "${name}"`);
    const p = new Parameter(name, initial, options.trainable ?? true);
    initial.dispose();
    this.ownParameters.set(name, p);
    return p;
  }

  /** Register a child module under `name` (may be numeric, e.g. `"0"`, like nn.Sequential). */
  addModule<M extends Module>(name: string, module: M): M {
    if (this.ownParameters.has(name) || this.children.has(name)) throw new DensePoseError('BAD_OPTION', `duplicate member "${name}"`);
    this.children.set(name, module);
    return module;
  }

  /** Child module by its local name, if any. */
  child(name: string): Module | undefined {
    return this.children.get(name);
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter with its full dotted name, in registration order (depth first). */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, p] of this.ownParameters) out.push([prefix + name, p]);
    for (const [name, m] of this.children) out.push(...m.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** Parameters an optimiser should update. */
  parameters(): Parameter[] {
    return this.namedParameters().filter(([, p]) => p.trainable).map(([, p]) => p);
  }

  /** Trainable variables, as tfjs optimisers want them. */
  trainableVariables(): tf.Variable[] {
    return this.parameters().map((p) => p.variable);
  }

  parameterCount(options: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const [, p] of this.namedParameters()) if (!options.trainableOnly || p.trainable) n += p.variable.size;
    return n;
  }

  /** Name → tensor (the variables themselves, not copies: do not dispose them). */
  stateDict(): Map<string, tf.Tensor> {
    return new Map(this.namedParameters().map(([n, p]) => [n, p.variable as tf.Tensor]));
  }

  /** Load values by name, checking shapes; reports (and in strict mode throws on) every problem by name. */
  loadStateDict(state: ReadonlyMap<string, StateValue>, options: LoadStateDictOptions = {}): LoadReport {
    const strict = options.strict ?? true;
    const own = new Map(this.namedParameters());
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [], loaded: 0 };
    for (const name of own.keys()) if (!state.has(name)) report.missing.push(name);
    for (const [name, value] of state) {
      const p = own.get(name);
      if (!p) {
        report.unexpected.push(name);
        continue;
      }
      if (!sameShape(value.shape, p.shape)) report.mismatched.push(`${name}: got [${value.shape.join(',')}], expected [${p.shape.join(',')}]`);
    }
    const problems = report.missing.length + report.unexpected.length + report.mismatched.length;
    if (strict && problems > 0) {
      const list = (title: string, xs: string[]) => (xs.length ? `\n  ${title} (${xs.length}): ${xs.slice(0, 8).join('; ')}${xs.length > 8 ? '; …' : ''}` : '');
      throw new DensePoseError(
        report.mismatched.length ? 'SHAPE_MISMATCH' : report.missing.length ? 'MISSING_KEY' : 'UNEXPECTED_KEY',
        `state dict does not fit the model:${list('shape mismatches', report.mismatched)}${list('missing', report.missing)}${list('unexpected', report.unexpected)}`,
        { where: options.source },
      );
    }
    const bad = new Set(report.mismatched.map((s) => s.slice(0, s.indexOf(':'))));
    for (const [name, value] of state) {
      const p = own.get(name);
      if (!p || bad.has(name)) continue;
      tf.tidy(() => p.assign(toTensor(value, p.variable.dtype)));
      report.loaded++;
    }
    return report;
  }

  /** Switch this module and all children to training (`true`) or evaluation mode. */
  train(on = true): this {
    this.training = on;
    for (const m of this.children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Free every parameter of this module and its children. */
  dispose(): void {
    for (const p of this.ownParameters.values()) p.dispose();
    for (const m of this.children.values()) m.dispose();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function toTensor(value: StateValue, dtype: tf.DataType): tf.Tensor {
  if (value instanceof tf.Tensor) return value.dtype === dtype ? value.clone() : tf.cast(value, dtype);
  const data = value.data instanceof Float32Array || value.data instanceof Int32Array ? value.data : Float32Array.from(value.data as ArrayLike<number>);
  return tf.tensor(data, [...value.shape], dtype === 'int32' ? 'int32' : 'float32');
}
