// The hostile-input corpus: builds, in a temp folder, every bad file the cases below feed to the CLI
// (in-process `main(argv)`) and to the library, with what each must answer — the exit code, the
// error code, and words that name the file/option and the problem. corpus.test.ts runs them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorCode } from '../../src/errors.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { generateDataset } from '../../src/synth/index.ts';
import { readSafetensors, writeSafetensors } from '../../src/runtime/checkpoint/index.ts';
import { tinyModelFile } from '../infer/helpers.ts';

export const CATEGORIES = [
  'usage',
  'numbers',
  'choices',
  'train-config',
  'model-config',
  'gt-densepose',
  'gt-coco',
  'results',
  'weights',
  'numerics',
  'output-io',
  'library',
  'images',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** One hostile input and the answer it must get. */
export interface Case {
  category: Category;
  name: string;
  /** A command line, run through the CLI's `main` in-process. */
  argv?: string[];
  /** Or a library call that must reject/throw a DensePoseError. */
  call?: () => unknown;
  /** Exit code the CLI must return. @default from the error code */
  exit?: number;
  /** DensePoseError code (shown as `[CODE]` by the CLI), or 'OK' for a case that must succeed. */
  code: ErrorCode | 'OK';
  /** The message must contain/match each of these (the file or option, and the problem). */
  says: (string | RegExp)[];
  /** Preparation just before the run (files that need the library to make). */
  before?: () => Promise<void>;
  /** Extra checks after the run (files left behind, …). */
  after?: () => void;
  /** Run time limit in ms (training cases). */
  timeout?: number;
}

const EXIT_OF: Record<ErrorCode | 'OK', number> = {
  OK: EXIT.ok,
  BAD_OPTION: EXIT.usage,
  BAD_INPUT: EXIT.badInput,
  BAD_FILE: EXIT.badInput,
  BAD_CONFIG: EXIT.badInput,
  TRUNCATED_FILE: EXIT.badInput,
  SHAPE_MISMATCH: EXIT.badInput,
  MISSING_KEY: EXIT.badInput,
  UNEXPECTED_KEY: EXIT.badInput,
  NOT_FOUND: EXIT.badInput,
  UNSUPPORTED: EXIT.badInput,
  IO: EXIT.io,
  NUMERIC: EXIT.diverged,
  ABORTED: EXIT.interrupted,
};

/** The exit code a case expects. */
export function expectedExit(c: Case): number {
  return c.exit ?? EXIT_OF[c.code];
}

type Json = Record<string, unknown>;
type Ann = Json & { id: number; dp_x?: number[]; dp_y?: number[]; dp_I?: number[]; dp_U?: number[]; dp_V?: number[]; dp_masks?: unknown[] };

/** Files the cases share: a tiny synthetic set, its ground truth, a tiny model, training configs. */
export interface Fixtures {
  dir: string;
  /** Synthetic set (annotations.json, images/, body/). */
  synth: string;
  gtPath: string;
  gt: Json & { annotations: Ann[]; images: Json[] };
  /** Id of an annotation with DensePose fields. */
  dpId: number;
  model: string;
  tiny: string;
  /** A valid results file (boxes only). */
  pred: string;
  /** A 192 KiB tmpfs to fill (disk-full cases), when this process may mount one (root on Linux). */
  tinyDisk: string | undefined;
  /** Unmount what was mounted, dispose what the cases opened. */
  cleanup(): Promise<void>;
  /** Run by cleanup(). */
  disposers: (() => Promise<void>)[];
  write(name: string, content: string | Uint8Array): string;
  json(name: string, value: unknown): string;
  /** A copy of the ground truth with one person annotation changed, written beside the images. */
  gtWith(name: string, change: (a: Ann, gt: Fixtures['gt']) => void): string;
  /** A training config (tiny model, the synth set, 2 iterations) with `change` applied. */
  trainConfig(name: string, change?: (c: Json) => void): string;
}

/** Mount a tiny tmpfs at `path`; undefined where that is not allowed. */
function mountTinyDisk(path: string): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  mkdirSync(path, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', path]);
  return r.status === 0 ? path : undefined;
}

export async function buildFixtures(dir: string): Promise<Fixtures> {
  const synth = join(dir, 'synth');
  // 128×96 keeps people big enough to carry DensePose points
  await generateDataset({ out: synth, images: 3, seed: 4, width: 128, height: 96, workers: 0, bodyRows: 4, minPeople: 1, maxPeople: 2 });
  const gtPath = join(synth, 'annotations.json');
  const gt = JSON.parse(readFileSync(gtPath, 'utf8')) as Fixtures['gt'];
  const dp = gt.annotations.find((a) => Array.isArray(a.dp_x) && a.dp_x.length > 3 && Array.isArray(a.dp_masks));
  if (!dp) throw new Error('corpus: the synthetic set has no person with DensePose points');
  const model = await tinyModelFile();
  const write = (name: string, content: string | Uint8Array) => {
    const p = join(dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
    return p;
  };
  const json = (name: string, value: unknown) => write(name, JSON.stringify(value));
  const pred = json('pred-ok.json', [{ image_id: gt.images[0]!.id, category_id: 1, bbox: [1, 1, 20, 30], score: 0.9 }]);
  const f: Fixtures = {
    dir,
    tinyDisk: mountTinyDisk(join(dir, 'tiny-disk')),
    disposers: [],
    async cleanup() {
      for (const d of f.disposers) await d();
      if (f.tinyDisk) spawnSync('umount', [f.tinyDisk]);
    },
    synth,
    gtPath,
    gt,
    dpId: dp.id,
    model,
    tiny: join(process.cwd(), 'configs/test/tiny.json'),
    pred,
    write,
    json,
    gtWith(name, change) {
      const copy = structuredClone(gt);
      change(copy.annotations.find((a) => a.id === dp.id)!, copy);
      const p = join(synth, name);
      writeFileSync(p, JSON.stringify(copy));
      return p;
    },
    trainConfig(name, change) {
      const c: Json = {
        model: f.tiny,
        mode: 'head',
        data: [{ path: synth }],
        seed: 1,
        solver: { baseLr: 0.01, maxIter: 2, imsPerBatch: 1, warmupIters: 0, checkpointPeriod: 1000 },
        input: { minSizeTrain: [64], maxSizeTrain: 128, flipProbability: 0, colorJitter: 0 },
      };
      change?.(c);
      return json(name, c);
    },
  };
  return f;
}

/** A copy of a safetensors model file with one float tensor's first value replaced. */
export function poisonedModel(f: Fixtures, name: string, value: number): { path: string; tensor: string } {
  const { tensors, metadata } = readSafetensors(f.model);
  const out = new Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>();
  let victim = '';
  for (const [n, a] of tensors) {
    const data = Float32Array.from(a.data as Float32Array);
    if (!victim && n.includes('res3') && n.endsWith('weight')) {
      victim = n;
      data[data.length >> 1] = value;
    }
    out.set(n, { dtype: 'float32', shape: a.shape, data });
  }
  const path = join(f.dir, name);
  writeSafetensors(path, out, metadata);
  return { path, tensor: victim };
}
