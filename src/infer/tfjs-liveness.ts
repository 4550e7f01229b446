// Layer-by-layer memory for the tfjs runner: a stage's forward is traced once with placeholder values to
// learn how often each op's result is used (the forwards never branch on values, shapes or the executor),
// then every run frees each intermediate tensor right after its last use. Peak memory is then the live
// set of the graph (a few feature maps), not every activation of the stage as one `tf.tidy` would keep.
import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../errors.ts';
import type { Executor } from '../runtime/executor.ts';
import { TfExecutor } from '../runtime/tf-executor.ts';

/** A stage forward on any executor: inputs in order → outputs in order. */
export type StageForward = <T>(ex: Executor<T>, inputs: T[]) => T[];

/** How the values of one forward are used: for each input and each op result (in call order), its number of later uses; which are outputs. */
export interface UsePlan {
  /** `uses[v]`: value v = inputs first, then op results in call order. */
  uses: number[];
  /** Values the forward returns (never freed by the runner). */
  outputs: Set<number>;
  /** Number of op calls. */
  calls: number;
}

/** Placeholder value of the tracing pass. */
class Slot {
  constructor(readonly id: number) {}
}

function slotsIn(args: unknown[]): Slot[] {
  const out: Slot[] = [];
  for (const a of args) {
    if (a instanceof Slot) out.push(a);
    else if (Array.isArray(a)) for (const x of a) if (x instanceof Slot) out.push(x);
  }
  return out;
}

/** Trace `forward` on placeholders: which values each op consumes. */
export function planUses(forward: StageForward, inputCount: number): UsePlan {
  const uses: number[] = new Array<number>(inputCount).fill(0);
  let calls = 0;
  const ex = new Proxy({} as Executor<Slot>, {
    get(_, prop) {
      if (prop === 'kind') return 'tfjs';
      if (prop === 'shape') {
        return () => {
          throw new DensePoseError('UNSUPPORTED', 'tfjs runner: a stage forward asked for a shape; its memory plan cannot be traced');
        };
      }
      return (...args: unknown[]) => {
        for (const s of slotsIn(args)) uses[s.id]!++;
        calls++;
        uses.push(0);
        return new Slot(uses.length - 1);
      };
    },
  });
  const inputs = Array.from({ length: inputCount }, (_, i) => new Slot(i));
  const result = forward(ex, inputs);
  return { uses, outputs: new Set(result.map((s) => s.id)), calls };
}

/**
 * A tfjs executor that calls `afterOp` after every op it runs (memory sampling of a forward that does not
 * free as it goes, the comparison `runFreeing` is measured against).
 */
export function executorWithHook(afterOp: () => void): TfExecutor {
  return new Proxy(new TfExecutor(), {
    get(target, prop) {
      const m = Reflect.get(target, prop) as unknown;
      if (typeof m !== 'function' || prop === 'shape') return m;
      return (...a: unknown[]) => {
        const r = (m as (...x: unknown[]) => tf.Tensor).apply(target, a);
        afterOp();
        return r;
      };
    },
  });
}

/**
 * Run `forward` on tfjs with `plan`: each op in its own `tf.tidy` (its temporaries go at once), each
 * value disposed after its last use unless it is an output. `inputs` are taken over (disposed when
 * used up). `afterOp` is called after each op has freed what it could (memory measurements). Returns the
 * outputs, which the caller disposes.
 */
export function runFreeing(forward: StageForward, plan: UsePlan, inputs: tf.Tensor[], afterOp?: () => void): tf.Tensor[] {
  const inner = new TfExecutor();
  const remaining = new Map<tf.Tensor, number>();
  const keep = new Set<tf.Tensor>();
  let next = inputs.length;
  const track = (t: tf.Tensor, id: number) => {
    remaining.set(t, (remaining.get(t) ?? 0) + plan.uses[id]!);
    if (plan.outputs.has(id)) keep.add(t);
  };
  inputs.forEach((t, i) => track(t, i));
  const release = (t: tf.Tensor) => {
    const left = remaining.get(t)! - 1;
    remaining.set(t, left);
    if (left === 0 && !keep.has(t)) {
      remaining.delete(t);
      t.dispose();
    }
  };
  const ex = new Proxy(inner, {
    get(target, prop, receiver) {
      const member = Reflect.get(target, prop, receiver) as unknown;
      if (typeof member !== 'function' || prop === 'shape') return member;
      return (...args: unknown[]) => {
        const result = tf.tidy(() => (member as (...a: unknown[]) => tf.Tensor).apply(target, args));
        const consumed: tf.Tensor[] = [];
        for (const a of args) {
          if (a instanceof tf.Tensor && remaining.has(a)) consumed.push(a);
          else if (Array.isArray(a)) for (const x of a) if (x instanceof tf.Tensor && remaining.has(x)) consumed.push(x);
        }
        // register the result before releasing inputs: an op may hand back one of them unchanged
        track(result, next++);
        for (const t of consumed) release(t);
        afterOp?.();
        return result;
      };
    },
  });
  let outputs: tf.Tensor[];
  try {
    outputs = forward(ex, inputs);
    if (next !== inputs.length + plan.calls) throw new DensePoseError('UNSUPPORTED', `tfjs runner: the stage made ${next - inputs.length} op calls, its traced plan ${plan.calls}`);
  } catch (e) {
    for (const t of remaining.keys()) t.dispose();
    throw e;
  }
  // values never used (an unused input, say) that are not outputs
  for (const [t, left] of remaining) if (left === 0 && !keep.has(t)) t.dispose();
  return outputs;
}
