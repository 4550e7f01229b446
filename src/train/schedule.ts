/** detectron2's WarmupMultiStepLR: linear warmup from `warmupFactor·baseLr`, then ×gamma at each step. */
export interface LrScheduleOptions {
  baseLr: number;
  /** Iterations at which the rate is multiplied by `gamma`. @default [] */
  steps?: readonly number[];
  /** @default 0.1 */
  gamma?: number;
  /** @default 100 */
  warmupIters?: number;
  /** @default 0.001 */
  warmupFactor?: number;
}

export function learningRate(iteration: number, o: LrScheduleOptions): number {
  const warmupIters = o.warmupIters ?? 100;
  const warmupFactor = o.warmupFactor ?? 0.001;
  let lr = o.baseLr;
  for (const s of o.steps ?? []) if (iteration >= s) lr *= o.gamma ?? 0.1;
  if (iteration < warmupIters) {
    const alpha = iteration / warmupIters;
    lr *= warmupFactor * (1 - alpha) + alpha;
  }
  return lr;
}
