import * as tf from '@tensorflow/tfjs-core';

/** A named, optionally trainable tensor owned by a `Module`. Its layout is ours (conv weights HWIO). */
export class Parameter {
  /** Local name inside its module (`weight`, `bias`, `running_mean`). */
  readonly localName: string;
  /** Backing variable; `trainable` decides whether optimisers update it. */
  readonly variable: tf.Variable;
  readonly trainable: boolean;

  constructor(localName: string, initial: tf.Tensor, trainable: boolean) {
    this.localName = localName;
    this.trainable = trainable;
    this.variable = tf.variable(initial, trainable);
  }

  get shape(): number[] {
    return this.variable.shape;
  }

  /** Replace the value in place, keeping the variable (and so optimiser state) identity. */
  assign(value: tf.Tensor): void {
    this.variable.assign(value);
  }

  dispose(): void {
    this.variable.dispose();
  }
}
