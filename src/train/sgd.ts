import * as tf from '@tensorflow/tfjs-core';
import { DensePoseError } from '../errors.ts';
import { clipScale, globalGradNorm } from './grad-norm.ts';
import type { Optimizer, StepReport } from './optimizer.ts';

export interface SgdOptions {
  /** @default 0.9 */
  momentum?: number;
  /** L2 weight decay added to the gradient (PyTorch SGD semantics). @default 1e-4 */
  weightDecay?: number;
  /** Clip the global gradient norm to this value; 0 = off. @default 0 */
  clipNorm?: number;
}

/**
 * SGD with momentum and weight decay, PyTorch's update (v ← m·v + g + wd·p; p ← p − lr·v),
 * with its momentum buffers named like the parameters so they checkpoint with them.
 */
export class Sgd implements Optimizer {
  private readonly buffers = new Map<string, tf.Variable>();
  readonly momentum: number;
  readonly weightDecay: number;
  readonly clipNorm: number;

  constructor(options: SgdOptions = {}) {
    this.momentum = options.momentum ?? 0.9;
    this.weightDecay = options.weightDecay ?? 1e-4;
    this.clipNorm = options.clipNorm ?? 0;
  }

  /** Apply one update; `grads` and `params` are keyed by parameter name. Disposes nothing it does not own. A non-finite gradient norm changes nothing. */
  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: number): StepReport {
    const gradNorm = globalGradNorm(grads);
    // A NaN/Inf gradient would poison every parameter and momentum buffer: leave them as they are;
    // the caller sees the norm and stops (see the training loop's stop conditions).
    if (!Number.isFinite(gradNorm)) return { gradNorm };
    const clip = clipScale(gradNorm, this.clipNorm);
    tf.tidy(() => {
      for (const [name, g0] of grads) {
        const p = params.get(name);
        if (!p) continue;
        let g = clip !== 1 ? tf.mul(g0, clip) : g0;
        if (this.weightDecay > 0) g = tf.add(g, tf.mul(p, this.weightDecay));
        if (this.momentum > 0) {
          let buf = this.buffers.get(name);
          if (!buf) {
            buf = tf.variable(g, false);
            this.buffers.set(name, buf);
          } else {
            buf.assign(tf.add(tf.mul(buf, this.momentum), g));
          }
          g = buf;
        }
        p.assign(tf.sub(p, tf.mul(g, lr)));
      }
    });
    return { gradNorm };
  }

  /** Momentum buffers by parameter name (views; do not dispose). */
  state(): Map<string, tf.Tensor> {
    return new Map(this.buffers);
  }

  loadState(state: ReadonlyMap<string, tf.Tensor>): void {
    this.dispose();
    if ([...state.keys()].some((k) => k.startsWith('adamw.'))) {
      throw new DensePoseError('BAD_FILE', 'the checkpoint holds AdamW state; resume with the optimiser it was trained with (solver.optimizer: "adamw")');
    }
    for (const [name, t] of state) this.buffers.set(name, tf.variable(t.clone(), false));
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
