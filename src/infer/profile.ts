// Wall time per pipeline step, for `bench infer --profile`. The pipeline reports into an optional
// `StepProfile`; without one it does no timing work at all. No Node-only imports (the browser page too).

/** Receives the time of each pipeline step (stage runs and host work between them). */
export interface StepProfile {
  /** `ms` spent in step `name` (called once per occurrence; the same name may repeat within a run). */
  add(name: string, ms: number): void;
}

/** Sums of {@link StepProfile} reports, in first-seen order. */
export class StepTimes implements StepProfile {
  readonly steps = new Map<string, { ms: number; calls: number }>();
  add(name: string, ms: number): void {
    const s = this.steps.get(name);
    if (s) {
      s.ms += ms;
      s.calls++;
    } else this.steps.set(name, { ms, calls: 1 });
  }
  /** Total of every step. */
  total(): number {
    let t = 0;
    for (const s of this.steps.values()) t += s.ms;
    return t;
  }
  clear(): void {
    this.steps.clear();
  }
}

const now = (): number => globalThis.performance.now();

/** `fn()`, its wall time reported to `profile` as `name` (just `fn()` without a profile). */
export function timed<T>(profile: StepProfile | undefined, name: string, fn: () => T): T {
  if (!profile) return fn();
  const t0 = now();
  try {
    return fn();
  } finally {
    profile.add(name, now() - t0);
  }
}

/** {@link timed} for an async step. */
export async function timedAsync<T>(profile: StepProfile | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (!profile) return fn();
  const t0 = now();
  try {
    return await fn();
  } finally {
    profile.add(name, now() - t0);
  }
}
