// The optimized-graph cache: the first open saves ORT's optimized graph (ORT format), later opens use it
// and give the outputs of the graph itself; a damaged cache file is replaced by the graph, not an error.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportStages } from '../../src/infer/export-stages.ts';
import { createCachedSession, OPTIMIZED_SUBDIR, optimizedGraphPath } from '../../src/infer/optimized-graphs.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { createSession } from '../../src/runtime/onnx/session.ts';
import { biasedModel } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'dp-ortcache-'));
const graph = join(dir, 'densepose.onnx');
let feeds: Record<string, { data: Float32Array; shape: number[] }>;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  const rcnn = biasedModel();
  writeFileSync(graph, exportStages(rcnn).densepose);
  const [ph, pw] = rcnn.densepose.config.poolerResolution;
  const c = rcnn.densepose.decoder ? rcnn.densepose.config.decoderNumClasses : rcnn.densepose.config.inChannels;
  feeds = { pooled: { data: Float32Array.from({ length: 2 * ph * pw * c }, (_, i) => Math.sin(i)), shape: [2, ph, pw, c] } };
  rcnn.model.dispose();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function outputs(open: () => Promise<Awaited<ReturnType<typeof createSession>>>): Promise<Record<string, number[]>> {
  const s = await open();
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
  } finally {
    await s.dispose();
  }
}

describe('optimized-graph cache', () => {
  it('saves once, reopens from the ORT-format file, same outputs as the graph', async () => {
    const cache = join(dir, 'cache');
    const want = await outputs(() => createSession(graph, { threads: 1 }));
    const first = await outputs(() => createCachedSession(graph, cache, { threads: 1 }));
    const file = optimizedGraphPath(cache, graph);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(join(cache, OPTIMIZED_SUBDIR))).toEqual([file.split('/').pop()]);
    const second = await outputs(() => createCachedSession(graph, cache, { threads: 1 }));
    for (const [name, values] of Object.entries(want)) {
      for (const got of [first, second]) {
        const d = values.reduce((m, v, i) => Math.max(m, Math.abs(v - got[name]![i]!)), 0);
        expect(d, name).toBeLessThan(1e-4);
      }
    }
    // a damaged file: dropped, the graph opens as usual
    writeFileSync(file, 'not an ORT model');
    const again = await outputs(() => createCachedSession(graph, cache, { threads: 1 }));
    expect(Object.keys(again)).toEqual(Object.keys(want));
    expect(existsSync(file)).toBe(false);
    // levels below 'extended' are not served from the cache
    await outputs(() => createCachedSession(graph, join(dir, 'cache2'), { threads: 1, graphOptimization: 'basic' }));
    expect(existsSync(join(dir, 'cache2'))).toBe(false);
  }, 60_000);
});
