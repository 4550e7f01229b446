// `densepose distill` sharded by a scheduler: the shard comes from a Kubernetes Indexed Job's or a Slurm
// array's environment; 3 shards run as separate processes and their merge equals one unsharded run.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveShard } from '../../src/train/distill/options.ts';
import { rebaseDensePaths, type PseudoLabelSet } from '../../src/train/distill/pseudo-set.ts';
import { syntheticImage, tinyModelFile } from '../infer/helpers.ts';

const BIN = resolve('bin/densepose.js');
/** Environment of this process without any scheduler variables (the runner may itself be a Slurm or k8s task). */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_') && k !== 'JOB_COMPLETION_INDEX'));

describe('resolveShard', () => {
  it('--shard wins; otherwise JOB_COMPLETION_INDEX with --shard-count, or the Slurm array task', () => {
    expect(resolveShard('1/4', undefined, { JOB_COMPLETION_INDEX: '3' })).toEqual({ shard: { index: 1, count: 4 }, source: '--shard' });
    expect(resolveShard(undefined, undefined, {})).toEqual({ shard: { index: 0, count: 1 }, source: 'default' });
    expect(resolveShard(undefined, 5, { JOB_COMPLETION_INDEX: '4' }).shard).toEqual({ index: 4, count: 5 });
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3' }).shard).toEqual({ index: 2, count: 3 });
    // offset array --array=1-3, and a stepped one --array=10-14:2
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' }).shard).toEqual({ index: 0, count: 3 });
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '14', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '3' }).shard).toEqual({ index: 2, count: 3 });
    expect(resolveShard(undefined, 8, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '6' }).shard).toEqual({ index: 5, count: 8 });
  });

  it('names the variable when the environment does not make a shard', () => {
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '2' })).toThrow(/JOB_COMPLETION_INDEX \(Kubernetes Indexed Job\): is 2, .*--shard-count/);
    expect(() => resolveShard(undefined, 2, { JOB_COMPLETION_INDEX: '2' })).toThrow(/index 2 is not below the shard count 2/);
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: 'x' })).toThrow(/environment variable JOB_COMPLETION_INDEX: must be a non-negative integer, got "x"/);
    expect(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '3' })).toThrow(/SLURM_ARRAY_TASK_COUNT is not set/);
    // --array=1,3,7: ids are not a contiguous range
    expect(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(/index 6 is not below the shard count 3: use a contiguous array/);
    expect(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '11', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(/not on the array's range/);
    expect(() => resolveShard(undefined, 3, {})).toThrow(/--shard-count: needs a scheduler array index/);
    expect(() => resolveShard('0/2', 2, {})).toThrow(/--shard i\/n already gives the count/);
  });
});

describe('rebaseDensePaths', () => {
  it('re-points dp_dense paths for a merged file written in another folder', () => {
    const set = { images: [], categories: [], distill: {} as never, annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], area: 1, iscrowd: 0, dp_dense: { iuv: 'dense/000001-0.png', region: [0, 0, 1, 1] } }] } as unknown as PseudoLabelSet;
    expect(rebaseDensePaths(set, '/x/shards', '/x/shards')).toBe(set);
    expect(rebaseDensePaths(set, '/x/shards', '/x/final').annotations[0]!.dp_dense!.iuv).toBe('../shards/dense/000001-0.png');
    expect(rebaseDensePaths(set, '/x/shards', '/x').annotations[0]!.dp_dense!.iuv).toBe('shards/dense/000001-0.png');
  });
});

describe('distill shards from scheduler environments', () => {
  let dir: string;
  let teacher: string;
  beforeAll(async () => {
    teacher = await tinyModelFile();
    dir = mkdtempSync(join(tmpdir(), 'dp-distill-sched-'));
    mkdirSync(join(dir, 'images'));
    for (let i = 0; i < 4; i++) {
      const im = syntheticImage(48, 64, i + 21);
      await sharp(im.data, { raw: { width: 48, height: 64, channels: 3 } }).png().toFile(join(dir, 'images', `im${i}.png`));
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], env: Record<string, string>) =>
    new Promise<string>((done, fail) => {
      const child = spawn(process.execPath, [BIN, 'distill', ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.stdout.resume();
      child.on('error', fail);
      child.on('exit', (code) => (code === 0 ? done(err) : fail(new Error(`distill ${args.join(' ')} exited ${code}: ${err}`))));
    });

  it('3 shards (Slurm offset array; Kubernetes Indexed Job) merge to the unsharded run byte for byte', async () => {
    const common = ['--teacher', teacher, '--images', join(dir, 'images'), '--transforms', 'flip,scales=64', '--score', '0.3', '--keep-empty', '--backend', 'wasm'];
    const whole = join(dir, 'whole', 'pseudo.json');
    // --array=1-3: task ids 1, 2, 3 → shards 0, 1, 2 of 3; as separate processes, in parallel
    const slurm = join(dir, 'slurm');
    const logs = await Promise.all([1, 2, 3].map((id) => run([...common, '--out', join(slurm, `shard-${id}.json`)], { SLURM_ARRAY_JOB_ID: '77', SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_COUNT: '3' })));
    expect(logs[1]).toMatch(/shard 1\/3 from SLURM_ARRAY_TASK_ID/);
    await run([...common, '--out', whole], {});
    for (const id of [1, 2, 3]) expect(JSON.parse(readFileSync(join(slurm, `shard-${id}.json`), 'utf8')).distill.shard).toEqual({ index: id - 1, count: 3 });
    await run(['merge', ...[3, 1, 2].map((id) => join(slurm, `shard-${id}.json`)), '--out', join(slurm, 'pseudo.json')], {});
    expect(readFileSync(join(slurm, 'pseudo.json'), 'utf8')).toBe(readFileSync(whole, 'utf8'));
    // the dense PNGs the shards wrote are the unsharded run's, byte for byte
    const pngs = readdirSync(join(dir, 'whole', 'dense')).sort();
    expect(pngs.length).toBeGreaterThan(0);
    expect(readdirSync(join(slurm, 'dense')).sort()).toEqual(pngs);
    for (const f of pngs) expect(readFileSync(join(slurm, 'dense', f)).equals(readFileSync(join(dir, 'whole', 'dense', f)))).toBe(true);
    // A Kubernetes Indexed Job pod with index 1 of 3 writes the same shard as Slurm task 2.
    const k8s = join(dir, 'k8s', 'shard-1.json');
    expect(await run([...common, '--shard-count', '3', '--out', k8s], { JOB_COMPLETION_INDEX: '1' })).toMatch(/shard 1\/3 from JOB_COMPLETION_INDEX/);
    expect(readFileSync(k8s, 'utf8')).toBe(readFileSync(join(slurm, 'shard-2.json'), 'utf8'));
  }, 300_000);
});
