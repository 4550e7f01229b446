export const LR_SCHEDULES = ['multistep', 'cosine'] as const;
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

/**
 * detectron2's schedules with linear warmup from `warmupFactor·baseLr`: WarmupMultiStepLR (×gamma at
 * each step) or WarmupCosineLR (½·(1 + cos(π·it/maxIter)), reaching 0 at maxIter).
 */
export interface LrScheduleOptions {
  baseLr: number;
  /** @default 'multistep' */
  lrSchedule?: LrScheduleName;
  /** Needed by `cosine`. */
  maxIter?: number;
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
  if (o.lrSchedule === 'cosine') lr *= 0.5 * (1 + Math.cos((Math.PI * Math.min(iteration, o.maxIter ?? iteration)) / Math.max(o.maxIter ?? 1, 1)));
  else for (const s of o.steps ?? []) if (iteration >= s) lr *= o.gamma ?? 0.1;
  if (iteration < warmupIters) {
    const alpha = iteration / warmupIters;
    lr *= warmupFactor * (1 - alpha) + alpha;
  }
  return lr;
}
