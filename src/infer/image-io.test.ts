import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { expandInputs, globToRegExp, mediaKind, readImage } from './image-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'image-io-'));

describe('readImage', () => {
  it('decodes RGB, drops alpha and expands grey', async () => {
    const rgba = await sharp(Buffer.from([10, 20, 30, 0, 40, 50, 60, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    expect(await readImage(rgba)).toEqual({ width: 2, height: 1, data: new Uint8Array([10, 20, 30, 40, 50, 60]) });
    const grey = join(dir, 'grey.png');
    await sharp(Buffer.from([0, 128, 255]), { raw: { width: 3, height: 1, channels: 1 } }).png().toFile(grey);
    expect([...(await readImage(grey)).data]).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255]);
  });
  it('applies EXIF orientation', async () => {
    // 3×2 image stored with orientation 6 (rotate 90° clockwise to display) → 2×3 upright.
    const px = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const jpg = await sharp(px, { raw: { width: 3, height: 2, channels: 3 } }).withMetadata({ orientation: 6 }).png().toBuffer();
    const img = await readImage(jpg);
    expect([img.width, img.height]).toEqual([2, 3]);
    // Top-left stored pixel (red) ends at the top-right after a clockwise turn.
    expect([...img.data.subarray(3, 6)]).toEqual([255, 0, 0]);
  });
  it('accepts raw pixels (grey, RGB, RGBA) and checks their size', async () => {
    expect((await readImage({ width: 1, height: 2, data: new Uint8Array([5, 6]) })).data).toEqual(new Uint8Array([5, 5, 5, 6, 6, 6]));
    expect((await readImage({ width: 1, height: 1, data: new Uint8ClampedArray([1, 2, 3, 4]) })).data).toEqual(new Uint8Array([1, 2, 3]));
    await expect(readImage({ width: 2, height: 2, data: new Uint8Array(5) })).rejects.toThrow(/expected 4 \(grey\), 12 \(RGB\) or 16 \(RGBA\)/);
  });
  it('names the file when it is missing or corrupt (BAD_FILE)', async () => {
    const bad = join(dir, 'corrupt.jpg');
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
    await expect(readImage(bad)).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringContaining(`${bad}: not a readable image`) });
    await expect(readImage(join(dir, 'nope.png'))).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringMatching(/nope\.png: cannot read image: no such file/) });
    const png = await sharp(Buffer.alloc(48), { raw: { width: 4, height: 4, channels: 3 } }).png().toBuffer();
    writeFileSync(join(dir, 'cut.png'), png.subarray(0, png.length - 20));
    await expect(readImage(join(dir, 'cut.png'))).rejects.toMatchObject({ code: 'BAD_FILE' });
  });
});

describe('expandInputs', () => {
  const root = mkdtempSync(join(tmpdir(), 'expand-'));
  for (const f of ['a/1.jpg', 'a/2.PNG', 'a/notes.txt', 'a/clip.mp4', 'a/sub/3.png', 'a/sub/deeper/4.webp', 'b/5.jpg']) {
    const p = join(root, f);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, '');
  }
  const r = (f: string) => join(root, f);
  it('folders give their images and videos, sorted; recursion on request', async () => {
    expect(await expandInputs([r('a')])).toEqual([r('a/1.jpg'), r('a/2.PNG'), r('a/clip.mp4')]);
    expect(await expandInputs([r('a') + '/'], { recursive: true })).toEqual([r('a/1.jpg'), r('a/2.PNG'), r('a/clip.mp4'), r('a/sub/3.png'), r('a/sub/deeper/4.webp')]);
  });
  it('globs: * within a folder, ** across folders, {…} alternatives; duplicates merged', async () => {
    expect(await expandInputs([`${root}/a/*.jpg`, `${root}/*/*.jpg`])).toEqual([r('a/1.jpg'), r('b/5.jpg')]);
    expect(await expandInputs([`${root}/a/**/*.{png,webp}`])).toEqual([r('a/sub/3.png'), r('a/sub/deeper/4.webp')]);
    expect(await expandInputs([`${root}/a/*`])).toEqual([r('a/1.jpg'), r('a/2.PNG'), r('a/clip.mp4')]);
  });
  it('plain paths pass through (even missing ones, reported when read); empty globs and folders throw', async () => {
    expect(await expandInputs([r('b/5.jpg'), r('missing.jpg')])).toEqual([r('b/5.jpg'), r('missing.jpg')]);
    await expect(expandInputs([`${root}/*.gif`])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    mkdirSync(r('empty'));
    await expect(expandInputs([r('empty')])).rejects.toThrow(/empty: folder has no images or videos/);
  });
  it('glob matcher and media kinds', () => {
    const re = globToRegExp('x/**/y/?.[jp]ng');
    expect(re.test('x/y/a.png')).toBe(true);
    expect(re.test('x/1/2/y/b.jng')).toBe(true);
    expect(re.test('x/y/ab.png')).toBe(false);
    expect(globToRegExp('*.jpg').test('d/a.jpg')).toBe(false);
    expect(globToRegExp('[!a]*.jpg').test('b.jpg')).toBe(true);
    expect(globToRegExp('[!a]*.jpg').test('a.jpg')).toBe(false);
    expect([mediaKind('a.JPEG'), mediaKind('v.mkv'), mediaKind('n.txt')]).toEqual(['image', 'video', undefined]);
  });
});
