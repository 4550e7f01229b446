// Video in and out through the ffmpeg command-line tools (Debian's ffmpeg; any build with rawvideo).
// Reading streams rgb24 frames from ffmpeg's stdout into ONE preallocated frame buffer, so a long
// video costs one frame of memory; writing pipes rgb24 frames into ffmpeg's stdin.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { DensePoseError } from '../errors.ts';
import type { RgbImage } from '../vis/types.ts';

export interface VideoToolOptions {
  /** ffmpeg executable. @default process.env.DENSEPOSE_FFMPEG ?? 'ffmpeg' */
  ffmpegPath?: string;
  /** ffprobe executable. @default process.env.DENSEPOSE_FFPROBE ?? 'ffprobe' */
  ffprobePath?: string;
}

export interface VideoInfo {
  /** Display size of decoded frames (rotation metadata applied, as ffmpeg applies it). */
  width: number;
  height: number;
  /** Frames per second of the video stream (average rate). */
  fps: number;
  /** Frame count when the container states it. */
  frameCount: number | undefined;
  /** Duration in seconds when known. */
  duration: number | undefined;
}

const ffmpegOf = (o: VideoToolOptions): string => o.ffmpegPath ?? process.env.DENSEPOSE_FFMPEG ?? 'ffmpeg';
const ffprobeOf = (o: VideoToolOptions): string => o.ffprobePath ?? process.env.DENSEPOSE_FFPROBE ?? 'ffprobe';

function missingTool(tool: string, cause: unknown): DensePoseError {
  return new DensePoseError('UNSUPPORTED', `"${tool}" was not found; video needs ffmpeg and ffprobe on PATH (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), or set DENSEPOSE_FFMPEG / DENSEPOSE_FFPROBE`, { where: tool, cause });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Spawn a tool; `exit` settles on close, or rejects (UNSUPPORTED) when the executable is missing. Keeps the last 4 KB of stderr. */
function spawnTool(tool: string, args: string[], stdin: 'pipe' | 'ignore'): { child: ChildProcess; exit: Promise<Exit>; stderr: () => string } {
  const child = spawn(tool, args, { stdio: [stdin, 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString('utf8')).slice(-4096);
  });
  const exit = new Promise<Exit>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingTool(tool, e) : e));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  // Callers await `exit` later; this keeps an early rejection from being reported as unhandled meanwhile.
  exit.catch(() => undefined);
  return { child, exit, stderr: () => err.trim() };
}

async function assertFile(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `cannot read video: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { where: path, cause: e });
  }
}

function parseRate(r: string | undefined): number {
  if (!r) return NaN;
  const [a, b] = r.split('/').map(Number);
  return b === undefined ? a! : a! / b;
}

/** Size, frame rate and length of a video's first video stream, via ffprobe. */
export async function probeVideo(path: string, options: VideoToolOptions = {}): Promise<VideoInfo> {
  await assertFile(path);
  const tool = ffprobeOf(options);
  const { child, exit, stderr } = spawnTool(tool, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:stream_tags=rotate:stream_side_data=rotation:format=duration', '-of', 'json', path], 'ignore');
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const { code } = await exit;
  interface Probe {
    streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string; nb_frames?: string; duration?: string; tags?: { rotate?: string }; side_data_list?: { rotation?: number }[] }[];
    format?: { duration?: string };
  }
  let probe: Probe = {};
  try {
    probe = JSON.parse(out || '{}') as Probe;
  } catch {
    // falls through to the error below with ffprobe's own message
  }
  const s = probe.streams?.[0];
  if (code !== 0 || !s?.width || !s.height) {
    throw new DensePoseError('BAD_FILE', `not a readable video (no video stream): ${stderr() || `ffprobe exited with ${code}`}`, { where: path });
  }
  const rotation = Number(s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? s.tags?.rotate ?? 0);
  const swap = Math.abs(rotation) % 180 === 90;
  let fps = parseRate(s.avg_frame_rate);
  if (!(fps > 0)) fps = parseRate(s.r_frame_rate);
  const frames = Number(s.nb_frames);
  const duration = Number(s.duration ?? probe.format?.duration);
  return {
    width: swap ? s.height : s.width,
    height: swap ? s.width : s.height,
    fps: fps > 0 ? fps : 25,
    frameCount: Number.isInteger(frames) && frames > 0 ? frames : undefined,
    duration: duration > 0 ? duration : undefined,
  };
}

export interface ReadVideoOptions extends VideoToolOptions {
  /** Resample to this many frames per second (ffmpeg's `fps` filter). @default the video's own rate */
  fps?: number;
}

/** A decoded frame. `data` is the reader's one frame buffer: valid until the iterator is advanced; copy it to keep it. */
export interface VideoFrame extends RgbImage {
  /** 0-based index among the frames delivered. */
  index: number;
  /** Presentation time in seconds, index / fps. */
  time: number;
}

/**
 * Frames of a video as RGB, one at a time, decoded by ffmpeg into a single preallocated buffer
 * (backpressure: ffmpeg waits while the consumer works). Breaking out of the loop stops ffmpeg.
 * Missing ffmpeg → `UNSUPPORTED`; unreadable video → `BAD_FILE` with ffmpeg's message.
 */
export async function* readVideoFrames(path: string, options: ReadVideoOptions = {}): AsyncGenerator<VideoFrame, void, undefined> {
  const info = await probeVideo(path, options);
  if (options.fps !== undefined && !(options.fps > 0)) throw new DensePoseError('BAD_OPTION', `fps must be > 0, got ${options.fps}`, { where: 'readVideoFrames' });
  const fps = options.fps ?? info.fps;
  const { width, height } = info;
  const frameBytes = width * height * 3;
  const args = ['-v', 'error', '-nostdin', '-i', path];
  if (options.fps !== undefined) args.push('-vf', `fps=${options.fps}`);
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-');
  const { child, exit, stderr } = spawnTool(ffmpegOf(options), args, 'ignore');
  const frame: VideoFrame = { width, height, data: new Uint8Array(frameBytes), index: 0, time: 0 };
  let filled = 0;
  let index = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        frame.data.set(chunk.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          frame.index = index;
          frame.time = index / fps;
          yield frame;
          index++;
          filled = 0;
        }
      }
    }
    const { code, signal } = await exit;
    if (code !== 0) throw new DensePoseError('BAD_FILE', `ffmpeg could not decode the video (${signal ?? `exit ${code}`}): ${stderr()}`, { where: path });
    finished = true;
  } finally {
    if (!finished && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit.catch(() => undefined);
  }
}

/** Which H.264/MPEG-4 encoders an ffmpeg build has (cached per executable). */
const encoderCache = new Map<string, Promise<string>>();
async function encoders(ffmpeg: string): Promise<string> {
  let p = encoderCache.get(ffmpeg);
  if (!p) {
    p = (async () => {
      const { child, exit } = spawnTool(ffmpeg, ['-hide_banner', '-encoders'], 'ignore');
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
      await exit;
      return out;
    })();
    encoderCache.set(ffmpeg, p);
    p.catch(() => encoderCache.delete(ffmpeg));
  }
  return p;
}

export const VIDEO_CODECS = ['auto', 'libx264', 'mpeg4'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];

export interface VideoWriterOptions extends VideoToolOptions {
  width: number;
  height: number;
  /** Frames per second of the output. @default 25 */
  fps?: number;
  /** Encoder: libx264 when the ffmpeg build has it, else MPEG-4 part 2. @default 'auto' */
  codec?: VideoCodec;
}

export interface VideoWriter {
  /** The encoder in use. */
  readonly codec: 'libx264' | 'mpeg4';
  /** Frames written so far. */
  readonly frames: number;
  /** Append one RGB frame `[height, width, 3]`; resolves once ffmpeg has taken the bytes, so the buffer may be reused. */
  write(frame: Uint8Array | RgbImage): Promise<void>;
  /** Finish the file (moved into place atomically). */
  close(): Promise<void>;
  /** Stop and delete the partial output. */
  abort(): Promise<void>;
}

/** An mp4 writer fed with RGB frames (odd sizes are padded by one pixel for yuv420p). */
export async function createVideoWriter(path: string, options: VideoWriterOptions): Promise<VideoWriter> {
  const { width, height } = options;
  const fps = options.fps ?? 25;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new DensePoseError('BAD_OPTION', `width and height must be positive integers, got ${width}×${height}`, { where: path });
  if (!(fps > 0)) throw new DensePoseError('BAD_OPTION', `fps must be > 0, got ${fps}`, { where: path });
  const want = options.codec ?? 'auto';
  if (!(VIDEO_CODECS as readonly string[]).includes(want)) throw new DensePoseError('BAD_OPTION', `Unknown codec "${want}". Expected one of: ${VIDEO_CODECS.join(', ')}.`, { where: path });
  const ffmpeg = ffmpegOf(options);
  const list = await encoders(ffmpeg);
  const hasX264 = /^\s*V\S*\s+libx264\s/m.test(list);
  if (want === 'libx264' && !hasX264) throw new DensePoseError('UNSUPPORTED', 'this ffmpeg build has no libx264 encoder; use codec "mpeg4" or "auto"', { where: ffmpeg });
  const codec = want === 'mpeg4' || !hasX264 ? 'mpeg4' : 'libx264';
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const quality = codec === 'libx264' ? ['-preset', 'veryfast', '-crf', '18'] : ['-q:v', '2'];
  const args = [
    '-v', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-',
    '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2',
    '-c:v', codec, ...quality, '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', tmp,
  ];
  const { child, exit, stderr } = spawnTool(ffmpeg, args, 'pipe');
  const stdin = child.stdin!;
  // EPIPE when ffmpeg dies early surfaces through `exit`/write callbacks instead.
  stdin.on('error', () => undefined);
  const frameBytes = width * height * 3;
  let frames = 0;
  let done = false;
  const failure = async (): Promise<never> => {
    const { code, signal } = await exit;
    throw new DensePoseError('BAD_FILE', `ffmpeg stopped while writing (${signal ?? `exit ${code}`}): ${stderr()}`, { where: path });
  };
  return {
    codec,
    get frames() {
      return frames;
    },
    async write(frame) {
      if (done) throw new DensePoseError('BAD_INPUT', 'write after close', { where: path });
      const data = frame instanceof Uint8Array ? frame : frame.data;
      if (!(frame instanceof Uint8Array) && (frame.width !== width || frame.height !== height)) {
        throw new DensePoseError('SHAPE_MISMATCH', `frame is ${frame.width}×${frame.height}, the video is ${width}×${height}`, { where: path });
      }
      if (data.length !== frameBytes) throw new DensePoseError('SHAPE_MISMATCH', `frame has ${data.length} bytes, expected ${height}·${width}·3 = ${frameBytes}`, { where: path });
      const written = new Promise<void>((resolve, reject) => stdin.write(data, (e) => (e ? reject(e) : resolve())));
      written.catch(() => undefined);
      await Promise.race([written, exit.then(failure)]).catch(async (e) => {
        if (e instanceof DensePoseError) throw e;
        return failure();
      });
      frames++;
    },
    async close() {
      if (done) return;
      done = true;
      stdin.end();
      const { code, signal } = await exit;
      if (code !== 0) {
        await rm(tmp, { force: true });
        throw new DensePoseError('BAD_FILE', `ffmpeg could not write the video (${signal ?? `exit ${code}`}): ${stderr()}`, { where: path });
      }
      await rename(tmp, path);
    },
    async abort() {
      done = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit.catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}
