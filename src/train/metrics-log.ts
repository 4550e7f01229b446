import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../runtime/checkpoint/atomic-write.ts';

/** One line of `RUN/metrics.jsonl`: training rows carry losses; validation rows carry `val` scores. */
export interface MetricsRow {
  iteration: number;
  /** Seconds since the run (or its resume) started. */
  time?: number;
  lr?: number;
  losses?: Record<string, number>;
  totalLoss?: number;
  gradNorm?: number;
  /** Validation scores, e.g. `{ bboxAP: 0.31, gpsAP: 0.12 }`. */
  val?: Record<string, number>;
}

/** Append-only JSONL log; on resume it first drops rows past the checkpoint so the log equals an uninterrupted run's. */
export class MetricsLog {
  constructor(readonly path: string) {}

  append(row: MetricsRow): void {
    appendFileSync(this.path, `${JSON.stringify(row)}\n`);
  }

  read(): MetricsRow[] {
    if (!existsSync(this.path)) return [];
    const rows: MetricsRow[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        rows.push(JSON.parse(line) as MetricsRow);
      } catch {
        // A kill can leave half a line at the end; it is dropped like any row after the checkpoint.
      }
    }
    return rows;
  }

  /** Keep rows with `iteration < resumeIteration` (the resumed run rewrites the rest). */
  truncateFrom(resumeIteration: number): void {
    const kept = this.read().filter((r) => r.iteration < resumeIteration);
    writeFileAtomic(this.path, [Buffer.from(kept.map((r) => `${JSON.stringify(r)}\n`).join(''))]);
  }
}
