// The npm package as a user gets it: build dist/, `npm pack`, install the tarball into an empty
// project, then (1) plain `node` imports it and runs the bundled model on a synthetic photo, (2) a
// TypeScript consumer type-checks against the shipped .d.ts, (3) Vite builds a page importing the
// browser entry. The install is offline: the tarball is unpacked into node_modules/densepose-ts as npm
// would, and only the package's declared `dependencies` (plus the consumer's own tools) are linked
// from this checkout's node_modules, so an undeclared runtime dependency fails the test.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
  files: string[];
};

/** Run a command to completion (asynchronously: a blocked worker would miss vitest's heartbeats); its stdout. */
async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    return (await execFileAsync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '' } })).stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`);
  }
}

/** Link `name` (scoped or not) from the checkout's node_modules into `modules`. */
function link(modules: string, name: string): void {
  const target = join(ROOT, 'node_modules', name);
  if (!existsSync(target)) throw new Error(`${name} is not installed in ${join(ROOT, 'node_modules')}`);
  mkdirSync(dirname(join(modules, name)), { recursive: true });
  symlinkSync(target, join(modules, name), 'dir');
}

describe('npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dp-package-'));
  const app = join(dir, 'app');
  const modules = join(app, 'node_modules');
  let tarball = '';

  beforeAll(async () => {
    await run('npm', ['run', 'build', '--silent'], ROOT);
    // ignore-scripts (.npmrc) also skips prepack, so the build above is explicit
    const out = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
    tarball = join(dir, (JSON.parse(out) as { filename: string }[])[0]!.filename);
    mkdirSync(modules, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true, dependencies: { 'densepose-ts': `file:${tarball}` } }));
    await run('tar', ['-xzf', tarball, '-C', modules], app);
    await run('mv', [join(modules, 'package'), join(modules, 'densepose-ts')], app);
    for (const dep of Object.keys(pkg.dependencies)) link(modules, dep);
    // the consumer's own tools: a TypeScript compiler with Node's types, and onnxruntime-web (the browser entry's peer)
    for (const dep of ['typescript', '@types/node', 'onnxruntime-web', 'vite']) link(modules, dep);
  }, 240_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ships dist, models and configs, and no sources, tests or benchmarks', async () => {
    const shipped = join(modules, 'densepose-ts');
    const top = readdirSync(shipped).sort();
    expect(top).toEqual(['README.md', 'bin', 'configs', 'dist', 'models', 'package.json']);
    expect(existsSync(join(shipped, 'models/default.safetensors'))).toBe(true);
    expect(existsSync(join(shipped, 'configs/densepose_rcnn_R_50_FPN_s1x.json'))).toBe(true);
    const files = (await run('tar', ['-tzf', tarball], dir)).split('\n');
    expect(files.filter((f) => f.endsWith('.test.js') || f.endsWith('.test.d.ts') || /\.ts$/.test(f.replace(/\.d\.ts$/, '')))).toEqual([]);
    for (const [sub, entry] of Object.entries(pkg.exports)) {
      if (typeof entry === 'string') continue;
      expect(existsSync(join(shipped, entry.default)), `${sub} → ${entry.default}`).toBe(true);
      expect(existsSync(join(shipped, entry.types)), `${sub} → ${entry.types}`).toBe(true);
    }
  });

  it('plain node imports every entry and runs the bundled model on a synthetic photo; the CLI runs from dist', async () => {
    writeFileSync(
      join(app, 'run.mjs'),
      `import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createDensePose } from 'densepose-ts';
import { renderScene } from 'densepose-ts/synth';
for (const sub of ['densepose-ts/train', 'densepose-ts/eval', 'densepose-ts/vis']) await import(sub);
const root = dirname(createRequire(import.meta.url).resolve('densepose-ts/package.json'));
const scene = renderScene({ width: 320, height: 240, seed: 3, minPeople: 1, maxPeople: 1 });
const dp = await createDensePose({ model: join(root, 'models/default.safetensors'), minSize: 240, maxSize: 320 });
const people = await dp.estimate({ width: scene.width, height: scene.height, data: scene.rgb });
await dp.dispose();
const text = JSON.stringify(people);
console.log(JSON.stringify({ backend: dp.backend, people: people.length, bytes: text.length, first: JSON.parse(text)[0] ?? null, coco: people[0]?.toCocoResult(1) ?? null }));
`,
    );
    const out = JSON.parse((await run(process.execPath, ['run.mjs'], app)).trim().split('\n').pop()!) as {
      backend: string;
      people: number;
      bytes: number;
      first: { box: number[]; score: number; densepose: { uv_shape: number[]; uv_data: string } } | null;
      coco: { image_id: number; category_id: number; uv_data: string } | null;
    };
    expect(out.backend).toBe('onnx');
    expect(out.people).toBeGreaterThan(0);
    expect(out.first!.box).toHaveLength(4);
    expect(out.first!.densepose.uv_shape[0]).toBe(3);
    expect(out.bytes).toBeLessThan(100_000 * out.people);
    expect(out.coco).toMatchObject({ image_id: 1, category_id: 1, uv_data: out.first!.densepose.uv_data });
    const help = await run(process.execPath, [join(modules, 'densepose-ts/bin/densepose.js'), '--help'], app);
    expect(help).toContain('Usage: densepose <command>');
  }, 120_000);

  it('a TypeScript consumer type-checks against the shipped declarations', async () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { createDensePose, DensePoseError, type DensePosePerson, type DensePoseCocoResult } from 'densepose-ts';
import { evaluateDetections } from 'densepose-ts/eval';
import type { BrowserImageInput } from 'densepose-ts/browser';
export async function people(path: string): Promise<DensePoseCocoResult[]> {
  const dp = await createDensePose({ model: path, backend: 'onnx', scoreThreshold: 0.6 });
  try {
    const found: DensePosePerson[] = await dp.estimate(path);
    const labels: Uint8Array = found[0]!.densepose.labels;
    void labels;
    return found.map((p) => p.toCocoResult(1));
  } catch (e) {
    if (e instanceof DensePoseError) console.error(e.code);
    throw e;
  } finally {
    await dp.dispose();
  }
}
export const inputs: BrowserImageInput[] = [];
void evaluateDetections;
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2023', 'DOM'], types: ['node'] },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [join(modules, 'typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
    // a wrong use is caught (the declarations are real, not `any`)
    writeFileSync(join(app, 'wrong.ts'), `import { createDensePose } from 'densepose-ts';\nawait createDensePose({ model: 3 });\n`);
    writeFileSync(join(app, 'tsconfig.wrong.json'), JSON.stringify({ extends: './tsconfig.json', files: ['wrong.ts'] }));
    await expect(run(process.execPath, [join(modules, 'typescript/bin/tsc'), '-p', 'tsconfig.wrong.json'], app)).rejects.toThrow(/not assignable/);
  }, 120_000);

  it('Vite builds a page that imports the browser entry', async () => {
    const web = join(app, 'web');
    mkdirSync(web);
    writeFileSync(join(web, 'index.html'), '<!doctype html><html><body><img id="photo"><script type="module" src="./main.js"></script></body></html>');
    writeFileSync(
      join(web, 'main.js'),
      `import { createDensePose } from 'densepose-ts/browser';
const dp = await createDensePose({ model: './model/' });
const people = await dp.estimate(document.getElementById('photo'));
document.body.dataset.people = JSON.stringify(people);
`,
    );
    await run(process.execPath, [join(modules, 'vite/bin/vite.js'), 'build', '--logLevel', 'warn', '--outDir', join(app, 'web-dist'), web], app);
    const assets = readdirSync(join(app, 'web-dist/assets'));
    expect(assets.some((f) => f.endsWith('.js'))).toBe(true);
    expect(assets.some((f) => f.endsWith('.wasm')), `ORT's wasm emitted: ${assets.join(', ')}`).toBe(true);
  }, 180_000);
});
