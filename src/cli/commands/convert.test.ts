import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DensePoseError } from '../../errors.ts';
import { readSafetensors } from '../../runtime/checkpoint/safetensors.ts';
import { FIXTURES, SKIP_FIXTURE_TESTS } from '../../runtime/checkpoint/test-fixtures.ts';
import { convertCommand } from './convert.ts';

const tmp = mkdtempSync(join(tmpdir(), 'convert-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const pkl = join(FIXTURES, 'detectron2', 'densepose_rcnn_R_18_tiny_random.pkl');

describe.skipIf(SKIP_FIXTURE_TESTS)('densepose convert', () => {
  it('writes a tfjs-layout safetensors with detectron2 names and reports JSON', async () => {
    const out = join(tmp, 'tiny.safetensors');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const rc = await convertCommand(['--from', 'detectron2', pkl, '--out', out, '--json']);
    const report = JSON.parse(String(log.mock.calls.at(-1)?.[0])) as { tensors: number; kinds: Record<string, number> };
    log.mockRestore();
    expect(rc).toBe(0);
    expect(report.tensors).toBe(170);
    expect(report.kinds).toEqual({ conv: 47, keep: 115, linear: 4, convTranspose: 4 });
    const { tensors, metadata } = readSafetensors(out);
    expect(metadata['densepose_ts.layout']).toBe('tfjs');
    expect(tensors.get('backbone.bottom_up.stem.conv1.weight')!.shape).toEqual([7, 7, 3, 64]);
    expect(tensors.get('roi_heads.box_head.fc1.weight')!.shape).toEqual([3136, 128]);
  });

  it('fails with a DensePoseError naming a truncated input, and on bad options', async () => {
    const cut = join(tmp, 'cut.pkl');
    writeFileSync(cut, readFileSync(pkl).subarray(0, 5000));
    await expect(convertCommand([cut, '--out', join(tmp, 'x.safetensors')])).rejects.toThrow(/cut\.pkl.*truncated.*backbone\.fpn_lateral2\.weight/);
    await expect(convertCommand(['--from', 'caffe2', pkl])).rejects.toBeInstanceOf(DensePoseError);
    await expect(convertCommand([])).rejects.toThrow(/expected one input/);
  });

  it('with --config: loads strictly into the model and writes a model file; another architecture is refused by name', async () => {
    const out = join(tmp, 'model.safetensors');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const rc = await convertCommand(['--from', 'detectron2', pkl, '--config', 'configs/densepose_rcnn_R_18_tiny_fixture.json', '--out', out, '--json']);
    log.mockRestore();
    expect(rc).toBe(0);
    const { tensors, metadata } = readSafetensors(out);
    expect(tensors.size).toBe(170);
    expect(JSON.parse(metadata['config']!).name).toBe('densepose_rcnn_R_18_tiny_fixture');
    await expect(convertCommand(['--from', 'detectron2', pkl, '--config', 'configs/densepose_rcnn_R_50_FPN_s1x.json', '--out', join(tmp, 'bad.safetensors')])).rejects.toThrow(
      /SHAPE|shape mismatches.*backbone/s,
    );
  });
});
