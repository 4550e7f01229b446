import type { Module } from '../runtime/module.ts';

/**
 * Mark every parameter of `module` as not trainable (detectron2's `freeze()` / FREEZE_AT).
 * `Parameter.trainable` is fixed at construction in the runtime; until `Module` offers a freeze of its
 * own, this flips both our flag and the tfjs variable's so optimisers and `tf.grads` skip them.
 */
export function freezeModule(module: Module): void {
  for (const [, p] of module.namedParameters()) {
    (p as { trainable: boolean }).trainable = false;
    (p.variable as { trainable: boolean }).trainable = false;
  }
}
