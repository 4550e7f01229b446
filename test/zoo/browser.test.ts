// Zoo names in the browser entry: `<baseUrl><name>/` fetched once, kept with the Cache API (an in-memory
// stand-in for `caches` here), and served from it when the server is gone. ORT is onnxruntime-node,
// which has onnxruntime-web's API.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream, existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDensePose } from '../../src/infer/browser.ts';
import type { OrtModuleLike } from '../../src/infer/ort-runner.ts';
import { modelDirOf } from '../../src/infer/export-model.ts';
import { writeModelDir } from '../../src/infer/model-dir.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { biasedModel, syntheticImage } from '../infer/helpers.ts';

class MemoryCache {
  readonly store = new Map<string, Response>();
  async match(url: string) {
    return this.store.get(url)?.clone();
  }
  async put(url: string, res: Response) {
    this.store.set(url, new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers }));
  }
}

describe('browser: zoo names through fetch + the Cache API', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dp-zoo-web-'));
  const requests: string[] = [];
  const caches = new Map<string, MemoryCache>();
  let base = '';
  let close: () => Promise<void>;

  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    const rcnn = biasedModel();
    writeModelDir(modelDirOf(rcnn), join(tmp, 'models', 'R_50_FPN_s1x'));
    rcnn.model.dispose();
    mkdirSync(join(tmp, 'models'), { recursive: true });
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const file = join(tmp, decodeURIComponent(req.url ?? ''));
      if (!existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200);
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/`;
    close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
    (globalThis as { caches?: unknown }).caches = { open: async (name: string) => caches.get(name) ?? caches.set(name, new MemoryCache()).get(name)! };
  });
  afterAll(async () => {
    delete (globalThis as { caches?: unknown }).caches;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('fetches <baseUrl><name>/ once, then runs from the cache with the server gone', async () => {
    const image = syntheticImage(80, 60, 5);
    const a = await createDensePose({ model: 'R_50_FPN_s1x', baseUrl: base, ort: ort as unknown as OrtModuleLike, executionProviders: ['cpu'] });
    const first = await a.estimate(image);
    await a.dispose();
    expect(requests.sort()).toEqual(['/models/R_50_FPN_s1x/body.onnx', '/models/R_50_FPN_s1x/box_head.onnx', '/models/R_50_FPN_s1x/densepose.onnx', '/models/R_50_FPN_s1x/spec.json']);
    expect(caches.get('densepose-ts')!.store.size).toBe(4);
    await close();
    const b = await createDensePose({ model: 'densepose_rcnn_R_50_FPN_s1x', baseUrl: base, ort: ort as unknown as OrtModuleLike, executionProviders: ['cpu'] });
    const second = await b.estimate(image);
    await b.dispose();
    expect(first.length).toBeGreaterThan(0);
    expect(second.map((p) => p.box)).toEqual(first.map((p) => p.box));
  });
});
