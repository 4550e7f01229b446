// What a run leaves behind and prints besides its own output: no stray temp files, no banners.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDensePose } from '../src/infer/densepose.ts';
import { syntheticImage, tinyModelFile } from './infer/helpers.ts';

describe('housekeeping', () => {
  it('an ONNX Runtime session leaves no mat-debug-<pid>.log in the temp dir', async () => {
    const dp = await createDensePose({ model: await tinyModelFile(), minSize: 48, maxSize: 64 });
    await dp.estimate(syntheticImage(64, 48));
    await dp.dispose();
    expect(existsSync(join(tmpdir(), `mat-debug-${process.pid}.log`))).toBe(false);
  }, 60_000);

  it('the cpu backend prints no "install tfjs-node" banner', () => {
    const script = "const { initBackend } = await import('./src/runtime/backend.ts'); const tf = await import('@tensorflow/tfjs-core'); await initBackend({ backend: 'cpu' }); tf.tensor([1, 2]).dispose(); console.log('ok');";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim()).toBe('ok');
    expect(r.stderr).not.toMatch(/tfjs-node|looks like you are running/);
  }, 60_000);
});
