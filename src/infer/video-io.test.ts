import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVideoWriter, probeVideo, readVideoFrames } from './video-io.ts';

/** Frame k: flat colour that changes with k, plus a white square moving right. */
function synthFrame(k: number, w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) d.set([20 * k + 10, 200 - 15 * k, 90], 3 * i);
  for (let y = 10; y < 20; y++) for (let x = 4 * k; x < 4 * k + 10; x++) d.set([255, 255, 255], 3 * (y * w + x));
  return d;
}

function meanChannel(d: Uint8Array, ch: number): number {
  let s = 0;
  for (let i = ch; i < d.length; i += 3) s += d[i]!;
  return s / (d.length / 3);
}

describe('video I/O (ffmpeg)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'video-io-'));
  const path = join(dir, 'synth.mp4');

  it('writes 10 synthetic frames and reads back 10 frames of the right size through one buffer', async () => {
    const w = 64;
    const h = 48;
    const writer = await createVideoWriter(path, { width: w, height: h, fps: 10 });
    const buf = new Uint8Array(w * h * 3);
    for (let k = 0; k < 10; k++) {
      buf.set(synthFrame(k, w, h)); // the same buffer every time: write must be done with it when it resolves
      await writer.write(buf);
    }
    await writer.close();
    expect(readdirSync(dir)).toEqual(['synth.mp4']); // temp file renamed into place
    const info = await probeVideo(path);
    expect([info.width, info.height, info.fps, info.frameCount]).toEqual([64, 48, 10, 10]);

    const buffers = new Set<Uint8Array>();
    let count = 0;
    for await (const f of readVideoFrames(path)) {
      expect([f.width, f.height, f.data.length, f.index]).toEqual([64, 48, 64 * 48 * 3, count]);
      expect(f.time).toBeCloseTo(count / 10, 9);
      buffers.add(f.data);
      const want = synthFrame(count, w, h);
      // Lossy codec: the frame's mean colour tracks the colour written for that frame.
      for (let ch = 0; ch < 3; ch++) expect(Math.abs(meanChannel(f.data, ch) - meanChannel(want, ch))).toBeLessThan(6);
      count++;
    }
    expect(count).toBe(10);
    expect(buffers.size).toBe(1);
  });

  it('resamples with fps and stops ffmpeg when the consumer breaks early', async () => {
    let n = 0;
    for await (const f of readVideoFrames(path, { fps: 5 })) n = f.index + 1;
    expect(n).toBe(5);
    let seen = 0;
    for await (const _ of readVideoFrames(path)) if (++seen === 3) break;
    expect(seen).toBe(3);
  });

  it('pads odd sizes to even ones (yuv420p) and honours codec mpeg4', async () => {
    const odd = join(dir, 'odd.mp4');
    const writer = await createVideoWriter(odd, { width: 15, height: 9, fps: 5, codec: 'mpeg4' });
    expect(writer.codec).toBe('mpeg4');
    for (let k = 0; k < 3; k++) await writer.write({ width: 15, height: 9, data: new Uint8Array(15 * 9 * 3).fill(100) });
    await writer.close();
    const info = await probeVideo(odd);
    expect([info.width, info.height]).toEqual([16, 10]);
  });

  it('says clearly when ffmpeg is missing, the file is absent or not a video, or a frame has the wrong size', async () => {
    await expect(createVideoWriter(join(dir, 'x.mp4'), { width: 8, height: 8, ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/apt-get install ffmpeg/) });
    await expect(probeVideo(path, { ffprobePath: '/nonexistent/ffprobe' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(readVideoFrames(join(dir, 'none.mp4')).next()).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringMatching(/none\.mp4: cannot read video: no such file/) });
    const junk = join(dir, 'junk.mp4');
    writeFileSync(junk, 'not a video at all');
    await expect(readVideoFrames(junk).next()).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringMatching(/junk\.mp4/) });
    const writer = await createVideoWriter(join(dir, 'y.mp4'), { width: 8, height: 8 });
    await expect(writer.write(new Uint8Array(10))).rejects.toThrow(/expected 8·8·3 = 192/);
    await writer.abort();
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
