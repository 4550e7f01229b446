import type * as tf from '@tensorflow/tfjs-core';
import { AdamW } from './adamw.ts';
import type { SolverConfig } from './config.ts';
import { Sgd } from './sgd.ts';

export interface StepReport {
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/** What the training loop updates parameters with; its state (named tensors) is saved in training checkpoints. */
export interface Optimizer {
  /** Apply one update; `grads` and `params` are keyed by parameter name. A non-finite gradient norm changes nothing. */
  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: number): StepReport;
  /** State by name (views; do not dispose). */
  state(): Map<string, tf.Tensor>;
  loadState(state: ReadonlyMap<string, tf.Tensor>): void;
  dispose(): void;
}

export const OPTIMIZERS = ['sgd', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The optimiser `solver.optimizer` names, with the solver's hyper-parameters. */
export function createOptimizer(solver: Pick<SolverConfig, 'optimizer' | 'momentum' | 'weightDecay' | 'clipNorm' | 'betas'>): Optimizer {
  if (solver.optimizer === 'adamw') return new AdamW({ betas: solver.betas, weightDecay: solver.weightDecay, clipNorm: solver.clipNorm });
  return new Sgd({ momentum: solver.momentum, weightDecay: solver.weightDecay, clipNorm: solver.clipNorm });
}
