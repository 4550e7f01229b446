// Download one file over HTTP(S) with progress, resuming an interrupted transfer with a Range request
// (from the bytes already in `partPath`, in this call after a cut connection or in a later call), then
// hash it (md5 + sha256) in one pass. Node only (fs); the browser side is ./browser.ts.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { DensePoseError } from '../errors.ts';

/** Progress of a model pull, for callbacks and bars. */
export interface PullProgress {
  /** Model name. */
  model: string;
  /** `wait`: another pull (a promise or a process) holds the model's lock; this one waits for it, then uses its result. */
  phase: 'wait' | 'download' | 'verify' | 'convert' | 'done';
  /** Bytes in the partial file so far (download), or of the whole file (later phases; 0 while waiting). */
  received: number;
  /** Size of the file when the server says it. */
  total: number | undefined;
  /** Bytes that were already there when this transfer started (a resumed download). */
  resumedFrom: number;
}

export interface DownloadOptions {
  /** Called as bytes arrive (at most every 64 KiB or so), and once at the end. */
  onProgress?: (received: number, total: number | undefined, resumedFrom: number) => void;
  signal?: AbortSignal;
  /** Transfers restarted (with Range) after a cut connection or a short body. @default 3 */
  retries?: number;
  /** For tests and custom agents. @default globalThis.fetch */
  fetch?: typeof fetch;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** `Content-Range: bytes a-b/total` → total. */
function rangeTotal(h: string | null): number | undefined {
  const m = h ? /\/(\d+)\s*$/.exec(h) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Fetch `url` into `partPath`, appending to what is there (HTTP 206) or starting over (200).
 * Resolves when the file is complete (its size equals the server's when the server gives one).
 * Errors name the URL: `NOT_FOUND` (HTTP 404), `IO` (every attempt failed: connection, HTTP status,
 * short body; the partial file is kept for a later resume), `ABORTED` (the signal).
 */
export async function downloadFile(url: string, partPath: string, options: DownloadOptions = {}): Promise<{ bytes: number }> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 3;
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (options.signal?.aborted) throw new DensePoseError('ABORTED', `download of ${url} aborted`);
    const have = sizeOf(partPath);
    let res: Response;
    try {
      res = await doFetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (e) {
      lastError = e;
      continue;
    }
    if (res.status === 416 && have > 0) {
      // Range past the end: the partial file is already whole (the server says how long it is).
      const total = rangeTotal(res.headers.get('content-range'));
      await res.body?.cancel();
      if (total === have) return { bytes: have };
      throw new DensePoseError('BAD_FILE', `server refused to resume at byte ${have} (HTTP 416); delete ${partPath} and pull again`, { where: url });
    }
    if (res.status === 404) throw new DensePoseError('NOT_FOUND', 'HTTP 404: no such file on the server', { where: url });
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      lastError = new Error(`HTTP ${res.status} ${res.statusText}`);
      if (res.status >= 400 && res.status < 500) break;
      continue;
    }
    const append = res.status === 206;
    const start = append ? have : 0;
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = append ? rangeTotal(res.headers.get('content-range')) : Number.isFinite(length) ? length : undefined;
    const out = createWriteStream(partPath, { flags: append ? 'a' : 'w' });
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
    });
    let received = start;
    let reported = 0;
    try {
      if (!res.body) throw new Error('empty response body');
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        received += chunk.length;
        if (received - reported >= 1 << 16) {
          reported = received;
          options.onProgress?.(received, total, start);
        }
      }
    } catch (e) {
      lastError = e;
    } finally {
      out.end();
      await closed;
    }
    if (options.signal?.aborted) throw new DensePoseError('ABORTED', `download of ${url} aborted (${received} bytes kept in ${partPath} for a later resume)`);
    options.onProgress?.(received, total, start);
    if (total === undefined || received === total) {
      if (lastError === undefined || total !== undefined) return { bytes: received };
    }
    lastError ??= new Error(`connection closed after ${received} of ${total} bytes`);
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new DensePoseError('IO', `download failed after ${retries + 1} attempts (${why}); what arrived is kept in ${partPath} and a later pull resumes from there`, { where: url, cause: lastError });
}

/** md5 and sha256 (hex) of a file, in one pass. */
export async function hashFile(path: string): Promise<{ md5: string; sha256: string; bytes: number }> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    sha.update(chunk);
    bytes += chunk.length;
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex'), bytes };
}
