// A local HTTP server for the zoo tests: serves one file with Range support (or, on request, a server
// that ignores Range), counts requests, and can cut the connection part-way through responses.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url(path: string): string;
  /** Requests seen: method, path, Range header. */
  readonly requests: { path: string; range: string | undefined }[];
  /** Cut the next `times` responses after this many bytes of body each. */
  cutNextAfter(bytes: number, times?: number): void;
  /** Answer every request with the whole file (HTTP 200), as a server without Range support does. */
  ignoreRange(on: boolean): void;
  close(): Promise<void>;
}

export async function serveFile(file: string, path: string): Promise<TestServer> {
  const size = statSync(file).size;
  const requests: TestServer['requests'] = [];
  let cut: number | undefined;
  let cuts = 0;
  let noRange = false;
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests.push({ path: req.url ?? '', range: req.headers.range });
    if (req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    const m = noRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= size && m) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    const headers: Record<string, string | number> = { 'Content-Length': size - start, 'Accept-Ranges': noRange ? 'none' : 'bytes' };
    if (m) headers['Content-Range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(m ? 206 : 200, headers);
    const limit = cuts > 0 ? cut : undefined;
    cuts = Math.max(0, cuts - 1);
    if (limit === undefined) {
      createReadStream(file, { start }).pipe(res);
      return;
    }
    // Send `limit` bytes, then drop the socket mid-body.
    const stream = createReadStream(file, { start, end: start + limit - 1 });
    stream.on('data', (c) => res.write(c));
    stream.on('end', () => setTimeout(() => req.socket.destroy(), 20));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    requests,
    cutNextAfter(bytes, times = 1) {
      cut = bytes;
      cuts = times;
    },
    ignoreRange(on) {
      noRange = on;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
