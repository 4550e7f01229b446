// The browser page end to end: build it with Vite, export a tiny model next to it, serve it on
// localhost, drive Debian's Chromium (never a downloaded browser) and check people are found and drawn.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDensePose } from '../../src/infer/densepose.ts';
import { loadModel } from '../../src/infer/model-file.ts';
import { modelDirOf } from '../../src/infer/export-model.ts';
import { writeModelDir } from '../../src/infer/model-dir.ts';
import { syntheticImage, tinyModelFile } from '../infer/helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/web/browser.test.ts: skipped, ${CHROMIUM} is absent (CI installs it with apt-get install chromium)`);

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.onnx': 'application/octet-stream', '.png': 'image/png' };

/** A static file server for `root` on 127.0.0.1 (random port). */
function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

describe.skipIf(!hasChromium)('browser page (Vite build, onnxruntime-web, Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dp-web-'));
  const dist = join(dir, 'dist');
  let served: { server: Server; url: string } | undefined;
  let modelPath = '';

  beforeAll(async () => {
    const { build } = await import('vite');
    await build({ configFile: 'web/vite.config.ts', logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
    modelPath = await tinyModelFile();
    const rcnn = loadModel(modelPath);
    writeModelDir(modelDirOf(rcnn), join(dist, 'model'));
    rcnn.model.dispose();
    served = await serve(dist);
  }, 180_000);

  afterAll(async () => {
    await new Promise((r) => served?.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a synthetic image: people found, overlays drawn, same people as createDensePose in Node', async () => {
    const { chromium } = await import('playwright-core');
    const image = syntheticImage(160, 120, 11);
    const png = join(dir, 'input.png');
    await sharp(image.data, { raw: { width: 160, height: 120, channels: 3 } }).png().toFile(png);
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      page.on('pageerror', (e) => logs.push(String(e)));
      await page.goto(`${served!.url}index.html?score=0&ep=wasm`);
      await page.waitForFunction(() => {
        const s = (window as unknown as { densepose?: { ready: boolean; error?: string } }).densepose;
        return s !== undefined && (s.ready || s.error !== undefined);
      }, undefined, { timeout: 90_000 });
      expect(await page.evaluate(() => (window as unknown as { densepose: { error?: string } }).densepose.error), logs.join('\n')).toBeUndefined();
      await page.setInputFiles('#file', png);
      await page.waitForFunction(() => {
        const s = (window as unknown as { densepose: { runs: number; error?: string } }).densepose;
        return s.runs > 0 || s.error !== undefined;
      }, undefined, { timeout: 90_000 });
      const result = await page.evaluate(() => {
        const s = (window as unknown as { densepose: { error?: string; people: { box: number[]; score: number; densepose: { labels: Uint8Array } }[]; input: { width: number; height: number; data: Uint8Array } } }).densepose;
        const canvas = document.getElementById('canvas') as HTMLCanvasElement;
        const drawn = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let changed = 0;
        const n = s.input.width * s.input.height;
        for (let i = 0; i < n; i++) {
          const d = Math.abs(drawn[4 * i]! - s.input.data[3 * i]!) + Math.abs(drawn[4 * i + 1]! - s.input.data[3 * i + 1]!) + Math.abs(drawn[4 * i + 2]! - s.input.data[3 * i + 2]!);
          if (d > 24) changed++;
        }
        return {
          error: s.error,
          size: [canvas.width, canvas.height],
          changed: changed / n,
          people: s.people.map((p) => ({ box: Array.from(p.box), score: p.score, fg: Array.from(p.densepose.labels).filter((l) => l > 0).length })),
          status: document.getElementById('status')!.textContent,
        };
      });
      expect(result.error, logs.join('\n')).toBeUndefined();
      expect(result.size).toEqual([160, 120]);
      expect(result.people.length).toBeGreaterThan(0);
      expect(result.people.some((p) => p.fg > 0)).toBe(true);
      expect(result.changed, 'fraction of canvas pixels changed by the overlays').toBeGreaterThan(0.02);
      expect(result.status).toMatch(/people|person found/);
      await page.locator('#canvas').screenshot({ path: join(dir, 'page.png') });
      writeFileSync(join(dir, 'result.json'), JSON.stringify(result));

      // Same model and pixels in Node on onnxruntime-node: the same people.
      const dp = await createDensePose({ model: modelPath, scoreThreshold: 0, threads: 1 });
      const node = await dp.estimate(image);
      await dp.dispose();
      expect(result.people.length).toBe(node.length);
      node.forEach((p, i) => {
        p.box.forEach((v, k) => expect(Math.abs(v - result.people[i]!.box[k]!)).toBeLessThan(0.05));
        expect(Math.abs(p.score - result.people[i]!.score)).toBeLessThan(1e-3);
      });
    } finally {
      await context.close();
    }
  }, 240_000);

  it('controls redraw the last run without inference, the same file can be picked again, the bundled sample runs, a missing model says so; WebGPU probed', async () => {
    const { chromium } = await import('playwright-core');
    const image = syntheticImage(160, 120, 12);
    const png = join(dir, 'input2.png');
    await sharp(image.data, { raw: { width: 160, height: 120, channels: 3 } }).png().toFile(png);
    const context = await chromium.launchPersistentContext(join(dir, 'profile2'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    type S = { ready: boolean; error?: string; runs: number; redraws: number; gpu: string; executionProvider: string; people: unknown[]; allPeople: unknown[]; input?: { width: number; height: number } };
    const state = (page: Page) => page.evaluate(() => {
      const s = (window as unknown as { densepose: S }).densepose;
      return { ready: s.ready, error: s.error, runs: s.runs, redraws: s.redraws, gpu: s.gpu, executionProvider: s.executionProvider, people: s.people.length, allPeople: s.allPeople.length, input: s.input && { width: s.input.width, height: s.input.height } };
    });
    const canvasPixels = (page: Page) => page.evaluate(() => {
      const c = document.getElementById('canvas') as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
    });
    const differs = (a: number[], b: number[]) => a.length !== b.length || a.some((v, i) => v !== b[i]);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      const ready = () => page.waitForFunction(() => {
        const s = (window as unknown as { densepose?: S }).densepose;
        return s !== undefined && (s.ready || s.error !== undefined);
      }, undefined, { timeout: 90_000 });
      const runsAbove = (n: number) => page.waitForFunction((k) => {
        const s = (window as unknown as { densepose: S }).densepose;
        return s.runs > k || s.error !== undefined;
      }, n, { timeout: 90_000 });

      // A folder without a model: a sentence that says so, not a JSON parser's complaint.
      await page.goto(`${served!.url}index.html?model=./no-model-here/&ep=wasm`);
      await ready();
      const missing = await state(page);
      expect(missing.error).toMatch(/no exported model at .*no-model-here.*npm run web:model/);
      expect(missing.error).not.toMatch(/Unexpected token/);
      expect(await page.locator('#status').textContent()).toContain('npm run web:model');

      // Default execution-provider choice: WebGPU when the browser gives an adapter.
      await page.goto(`${served!.url}index.html?score=0`);
      await ready();
      const auto = await state(page);
      expect(auto.error, logs.join('\n')).toBeUndefined();
      expect(auto.gpu).not.toBe('');
      writeFileSync(join(dir, 'webgpu.json'), JSON.stringify({ gpu: auto.gpu, executionProvider: auto.executionProvider }));
      console.log(`browser test: WebGPU in headless Chromium: ${auto.gpu}; page runs on ${auto.executionProvider}`);

      // The same file twice: two runs.
      await page.setInputFiles('#file', png);
      await runsAbove(0);
      await page.setInputFiles('#file', png);
      await runsAbove(1);
      let s = await state(page);
      expect(s.error, logs.join('\n')).toBeUndefined();
      expect(s.runs).toBe(2);
      expect(s.allPeople).toBeGreaterThan(0);

      // Each control changes the picture at once, with no new run.
      for (const id of ['parts', 'uv', 'boxes']) {
        const before = await canvasPixels(page);
        await page.click(`#${id}`);
        await page.waitForFunction((n) => (window as unknown as { densepose: S }).densepose.redraws > n, s.redraws);
        expect(differs(await canvasPixels(page), before), `#${id} changes the canvas`).toBe(true);
        s = await state(page);
        expect(s.runs).toBe(2);
      }
      const before = await canvasPixels(page);
      await page.fill('#score', '1');
      await page.waitForFunction((n) => (window as unknown as { densepose: S }).densepose.redraws > n, s.redraws);
      expect(differs(await canvasPixels(page), before), '#score changes the canvas').toBe(true);
      s = await state(page);
      expect(s.runs).toBe(2);
      expect(s.people).toBeLessThan(s.allPeople);

      // The bundled sample image.
      await page.click('#sample');
      await runsAbove(2);
      s = await state(page);
      expect(s.error, logs.join('\n')).toBeUndefined();
      expect(s.input).toEqual({ width: 480, height: 360 });
    } finally {
      await context.close();
    }
  }, 300_000);

  it('WebGPU: with --enable-unsafe-webgpu headless Chromium offers a SwiftShader adapter; the page runs on it and finds the people wasm finds', async () => {
    const { chromium } = await import('playwright-core');
    const image = syntheticImage(160, 120, 11);
    const png = join(dir, 'input3.png');
    await sharp(image.data, { raw: { width: 160, height: 120, channels: 3 } }).png().toFile(png);
    const context = await chromium.launchPersistentContext(join(dir, 'profile3'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      await page.goto(`${served!.url}index.html?score=0`);
      await page.waitForFunction(() => {
        const s = (window as unknown as { densepose?: { ready: boolean; error?: string } }).densepose;
        return s !== undefined && (s.ready || s.error !== undefined);
      }, undefined, { timeout: 90_000 });
      await page.setInputFiles('#file', png);
      await page.waitForFunction(() => {
        const s = (window as unknown as { densepose: { runs: number; error?: string } }).densepose;
        return s.runs > 0 || s.error !== undefined;
      }, undefined, { timeout: 120_000 });
      const r = await page.evaluate(() => {
        const s = (window as unknown as { densepose: { error?: string; gpu: string; executionProvider: string; people: { box: number[]; score: number }[] } }).densepose;
        return { error: s.error, gpu: s.gpu, ep: s.executionProvider, people: s.people.map((p) => ({ box: Array.from(p.box), score: p.score })) };
      });
      writeFileSync(join(dir, 'webgpu-run.json'), JSON.stringify(r));
      console.log(`browser test: WebGPU run: ${r.gpu}; execution provider ${r.ep}; ${r.people.length} people`);
      expect(r.error, logs.join('\n')).toBeUndefined();
      expect(r.gpu).toMatch(/^adapter /);
      // The browser entry and createDensePose in Node pick the same resize from the spec ('detectron2' for this detectron2-made config).
      const dp = await createDensePose({ model: modelPath, scoreThreshold: 0, threads: 1 });
      const node = await dp.estimate(image);
      await dp.dispose();
      expect(r.people.length).toBe(node.length);
      node.forEach((p, i) => {
        p.box.forEach((v, k) => expect(Math.abs(v - r.people[i]!.box[k]!)).toBeLessThan(0.5));
        expect(Math.abs(p.score - r.people[i]!.score)).toBeLessThan(1e-2);
      });
    } finally {
      await context.close();
    }
  }, 300_000);
});
