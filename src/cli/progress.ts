/**
 * A terminal progress bar for long work (synth, train, eval, infer), cut to the terminal's width.
 * When the stream is not a terminal (a log file, CI) it is quiet, or prints one plain line every
 * `logEvery` ticks.
 */
export interface Progress {
  /** Advance by `n` (default 1); `info` is shown after the bar (losses, current file). */
  tick(n?: number, info?: string): void;
  /** Finish the bar and print the final line. */
  done(info?: string): void;
}

export interface ProgressOptions {
  /** Where to draw. @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** Redraw at most this often. @default 100 */
  intervalMs?: number;
  /** Draw even when the stream is not a TTY (one line per redraw). @default process.env.DENSEPOSE_PROGRESS === "1" */
  force?: boolean;
  /** When the stream is not a TTY: one line every this many ticks (and at the end). 0 = none. @default 0 */
  logEvery?: number;
}

/** `text` cut to `columns - 1` characters (the last column would wrap on some terminals). */
export function fitToWidth(text: string, columns: number | undefined): string {
  const max = Math.max(20, (columns ?? 80) - 1);
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const ss = String(Math.floor(s % 60)).padStart(2, '0');
  return h > 0 ? `${h}:${String(m % 60).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function createProgress(total: number, label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const logEvery = tty ? 0 : Math.max(0, Math.floor(options.logEvery ?? 0));
  // DENSEPOSE_PROGRESS=1: one progress line per update on a non-TTY stderr (logs, CI, supervising scripts)
  const forced = options.force ?? process.env.DENSEPOSE_PROGRESS === '1';
  const enabled = tty || forced || logEvery > 0;
  let lastLogged = 0;
  const interval = options.intervalMs ?? 100;
  const start = performance.now();
  let done = 0;
  let last = 0;
  let lastInfo = '';

  const line = (withBar = true): string => {
    const elapsed = (performance.now() - start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    const width = 24;
    const filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : 0;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const pct = total > 0 ? ((100 * done) / total).toFixed(0).padStart(3) : '  ?';
    return `${label}${withBar ? ` ${bar}` : ''} ${pct}% ${done}/${total} ${rate.toFixed(2)} it/s ETA ${formatSeconds(eta)}${lastInfo ? ` ${lastInfo}` : ''}`;
  };
  const draw = (final: boolean): void => {
    if (!enabled) return;
    if (tty) stream.write(`\r\x1b[2K${fitToWidth(line(), stream.columns)}${final ? '\n' : ''}`);
    else if (logEvery > 0 && !forced) {
      if (!final && done - lastLogged < logEvery) return;
      if (final && done === lastLogged) return;
      lastLogged = done;
      stream.write(`${line(false)}\n`);
    } else stream.write(`${line()}\n`);
  };

  return {
    tick(n = 1, info?: string) {
      done += n;
      if (info !== undefined) lastInfo = info;
      const now = performance.now();
      if (logEvery > 0 || now - last >= interval || done >= total) {
        last = now;
        draw(false);
      }
    },
    done(info?: string) {
      if (info !== undefined) lastInfo = info;
      draw(true);
    },
  };
}
