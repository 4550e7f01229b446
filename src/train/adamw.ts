import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../errors.ts';
import { clipScale, globalGradNorm } from './grad-norm.ts';
import type { Optimizer, StepReport } from './optimizer.ts';

export interface AdamWOptions {
  /** Decay rates of the first and second moment estimates. @default [0.9, 0.999] */
  betas?: readonly [number, number];
  /** @default 1e-8 */
  eps?: number;
  /** Decoupled weight decay (p ← p − lr·wd·p, Loshchilov & Hutter), not an L2 term in the gradient. @default 0.01 */
  weightDecay?: number;
  /** Clip the global gradient norm to this value before the update; 0 = off. @default 0 */
  clipNorm?: number;
}

/** State names in checkpoints: the step count and both moments per parameter. */
const STEP = 'adamw.step';
const M = 'adamw.exp_avg.';
const V = 'adamw.exp_avg_sq.';

/**
 * AdamW with bias correction, PyTorch's `torch.optim.AdamW` update:
 * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p·(1 − lr·wd) − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε).
 * From scratch it tolerates a badly scaled network far better than SGD (per-parameter step sizes),
 * which is why the synthetic-people recipe uses it (docs/training-recipe.md).
 */
export class AdamW implements Optimizer {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;
  /** The step count as a tensor, for checkpoints (one live scalar, reassigned, so saving leaks nothing). */
  private stepTensor: tf.Variable | undefined;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly clipNorm: number;

  constructor(options: AdamWOptions = {}) {
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.clipNorm = options.clipNorm ?? 0;
  }

  /** One update (`grads`, `params` by parameter name). A non-finite gradient norm changes nothing, as in `Sgd`. */
  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: number): StepReport {
    const gradNorm = globalGradNorm(grads);
    if (!Number.isFinite(gradNorm)) return { gradNorm };
    const clip = clipScale(gradNorm, this.clipNorm);
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, g0] of grads) {
        const p = params.get(name);
        if (!p) continue;
        const g = clip !== 1 ? tf.mul(g0, clip) : g0;
        const m = this.moment(this.m, name, p);
        const v = this.moment(this.v, name, p);
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), this.eps));
        const decayed = this.weightDecay > 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      }
    });
    return { gradNorm };
  }

  private moment(store: Map<string, tf.Variable>, name: string, like: tf.Tensor): tf.Variable {
    let buf = store.get(name);
    if (!buf) {
      buf = tf.variable(tf.zerosLike(like), false);
      store.set(name, buf);
    }
    return buf;
  }

  /** Step count and moments by name (views of the live state; do not dispose them). */
  state(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    if (this.t > 0) {
      this.stepTensor ??= tf.variable(tf.scalar(0), false);
      this.stepTensor.assign(tf.scalar(this.t));
      out.set(STEP, this.stepTensor);
    }
    for (const [n, b] of this.m) out.set(M + n, b);
    for (const [n, b] of this.v) out.set(V + n, b);
    return out;
  }

  loadState(state: ReadonlyMap<string, tf.Tensor>): void {
    this.dispose();
    if (state.size === 0) return;
    const step = state.get(STEP);
    if (!step) throw new DensePoseError('BAD_FILE', 'the checkpoint holds another optimiser\'s state (no "adamw.step"); resume with the optimiser it was trained with (solver.optimizer)');
    this.t = step.dataSync()[0]!;
    for (const [name, t] of state) {
      if (name.startsWith(M)) this.m.set(name.slice(M.length), tf.variable(t.clone(), false));
      else if (name.startsWith(V)) this.v.set(name.slice(V.length), tf.variable(t.clone(), false));
    }
  }

  dispose(): void {
    for (const b of [...this.m.values(), ...this.v.values()]) b.dispose();
    this.m.clear();
    this.v.clear();
    this.stepTensor?.dispose();
    this.stepTensor = undefined;
    this.t = 0;
  }
}
