// Every zoo row's config builds a model whose parameter names and shapes are exactly those of the model
// detectron2 builds from its own yaml (test/zoo/fixtures/d2-param-shapes.json.gz, made by
// scripts/d2-param-shapes.py with detectron2), after our layout conversion: so the zoo checkpoint
// loads strictly. Also: our yaml converter reproduces the shipped JSON configs.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type * as TF from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDensePoseRcnn, loadDensePoseRcnnConfig } from '../../src/model/densepose-rcnn.ts';
import { DROPPED_KEY_PATTERNS, detectron2WeightKind } from '../../src/runtime/checkpoint/detectron2.ts';
import type { NdArray } from '../../src/runtime/checkpoint/ndarray.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { shippedZooIndex } from '../../src/zoo/index.ts';

// Shapes only: skip the random draws of initialisation (tfjs' seeded generator is most of the build time).
vi.mock('@tensorflow/tfjs-core', async (importOriginal) => {
  const tf = await importOriginal<typeof TF>();
  const zeros = (shape: number[]) => tf.zeros(shape);
  return { ...tf, randomNormal: zeros, randomUniform: zeros, truncatedNormal: zeros };
});

const D2: Record<string, [string, number[]][]> = JSON.parse(gunzipSync(readFileSync('test/zoo/fixtures/d2-param-shapes.json.gz')).toString('utf8'));

/** detectron2 shape → ours, by the converter's layer kinds (conv OIHW→HWIO, ConvTranspose [i,o,kh,kw]→[kh,kw,o,i], Linear [o,i]→[i,o]). */
function ourShape(name: string, shape: number[]): number[] {
  const kind = detectron2WeightKind(name, { shape } as unknown as NdArray);
  const [a, b, c, d] = shape as [number, number, number, number];
  if (kind === 'conv') return [c, d, b, a];
  if (kind === 'convTranspose') return [c, d, b, a];
  if (kind === 'linear') return [b, a];
  return shape;
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('zoo configs against detectron2-built models', () => {
  for (const m of shippedZooIndex().models) {
    it(`${m.name}: same parameter names and shapes`, () => {
      const ref = D2[m.detectron2Config];
      expect(ref, `fixture has ${m.detectron2Config}`).toBeDefined();
      const expected = new Map(ref!.filter(([n]) => !DROPPED_KEY_PATTERNS.some((p) => p.test(n))).map(([n, s]) => [n, ourShape(n, s)]));
      const rcnn = buildDensePoseRcnn(loadDensePoseRcnnConfig(m.config), m.config);
      try {
        const ours = new Map(rcnn.model.namedParameters().map(([n, p]) => [n, p.shape]));
        expect([...ours.keys()].filter((n) => !expected.has(n)), 'ours only').toEqual([]);
        expect([...expected.keys()].filter((n) => !ours.has(n)), 'detectron2 only').toEqual([]);
        const wrong = [...expected].filter(([n, s]) => JSON.stringify(ours.get(n)) !== JSON.stringify(s));
        expect(wrong, 'shape mismatches').toEqual([]);
      } finally {
        rcnn.model.dispose();
      }
    });
  }
});
