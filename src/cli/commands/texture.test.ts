import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readAtlasImage, savePng, toChallengeResult } from '../../vis/index.ts';
import { makeImage, makePerson } from '../../vis/test-people.ts';
import { textureCommand } from './texture.ts';

describe('densepose texture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'texture-cli-'));
  const p = (f: string) => join(dir, f);
  const people = [makePerson([4, 3, 40, 88], 0.95), makePerson([52, 6, 36, 80], 0.7)];

  it('paints an atlas from files, then --extract recovers it on the texels it saw', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await savePng(p('img.png'), makeImage(96, 100));
    writeFileSync(p('res.json'), JSON.stringify([...(await Promise.all(people.map((q) => toChallengeResult(q, 3)))), await toChallengeResult(makePerson([0, 0, 8, 8], 0.99), 4)]));
    // Atlas with N = 12 and no black texels (black = transparent in an RGB atlas).
    const n = 12;
    const data = new Uint8Array(4 * n * 6 * n * 3);
    for (let i = 0; i < data.length; i++) data[i] = 1 + ((i * 7919) % 251);
    await savePng(p('atlas.png'), { width: 4 * n, height: 6 * n, channels: 3, data });

    expect(await textureCommand([p('img.png'), '--results', p('res.json'), '--image-id', '3', '--atlas', p('atlas.png'), '--out', p('painted.png')])).toBe(0);
    expect(await textureCommand([p('painted.png'), '--results', p('res.json'), '--image-id', '3', '--extract', '--tile-size', String(n), '--out', p('back.png')])).toBe(0);
    const back = await readAtlasImage(p('back.png'));
    expect([back.width, back.height, back.channels]).toEqual([4 * n, 6 * n, 4]);
    let covered = 0;
    for (let t = 0; t < back.width * back.height; t++) {
      if (back.data[4 * t + 3] === 0) continue;
      covered++;
      expect([...back.data.subarray(4 * t, 4 * t + 3)]).toEqual([...data.subarray(3 * t, 3 * t + 3)]);
    }
    expect(covered).toBeGreaterThan(100);
  });

  it('asks for --image-id when the file holds several images, and checks its arguments', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await expect(textureCommand([p('img.png'), '--results', p('res.json'), '--atlas', p('atlas.png'), '--out', p('x.png')])).rejects.toThrow(/several images \(image_id 3, 4\); pick one with --image-id/);
    await expect(textureCommand([p('img.png'), '--results', p('res.json'), '--image-id', '9', '--extract', '--out', p('x.png')])).rejects.toThrow(/no detections for image_id 9/);
    await expect(textureCommand([p('img.png'), '--results', p('res.json'), '--image-id', '3', '--extract', '--person', '5', '--out', p('x.png')])).rejects.toThrow(/only 2 detection/);
    expect(await textureCommand([p('img.png'), '--results', p('res.json'), '--out', p('x.png')])).toBe(2);
    await expect(textureCommand([p('missing.png'), '--results', p('res.json'), '--image-id', '3', '--extract', '--out', p('x.png')])).rejects.toMatchObject({ code: 'BAD_FILE' });
  });
});
