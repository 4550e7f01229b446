// Synthetic data throughput at 320×240 with 3 people per image (goal ≥ 20 images/s on one core):
// each stage timed separately, then the whole writer (render + annotate + 2 PNGs) in one thread.
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { annotateScene } from '../src/synth/annotate.ts';
import { bodyTemplate } from '../src/synth/body.ts';
import { writeImage } from '../src/synth/dataset.ts';
import { createSceneRenderer } from '../src/synth/scene.ts';

export async function run(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 40);
  const width = 320, height = 240;
  const scene = { seed: 1, width, height, minPeople: 3, maxPeople: 3 };
  let t = performance.now();
  bodyTemplate();
  const templateMs = performance.now() - t;
  const renderer = createSceneRenderer();
  renderer.render({ ...scene, index: 0 }); // warm-up
  t = performance.now();
  const scenes = [];
  for (let i = 0; i < n; i++) scenes.push(renderer.render({ ...scene, index: i }));
  const renderMs = (performance.now() - t) / n;
  t = performance.now();
  for (const s of scenes) annotateScene(s);
  const annotateMs = (performance.now() - t) / n;
  const out = mkdtempSync(join(tmpdir(), 'synth-bench-'));
  mkdirSync(join(out, 'images')); mkdirSync(join(out, 'iuv'));
  const job = { out, format: 'png' as const, scene, pointsPerPerson: 100 };
  t = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await writeImage(job, i, (o) => renderer.render(o));
  const totalMs = (performance.now() - t) / n;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / n;
  rmSync(out, { recursive: true, force: true });
  const rows: [string, number][] = [['render (scene + raster + shade)', renderMs], ['annotate (RLE, points, 14 masks)', annotateMs], ['writer total (render + annotate + 2 PNG), wall', totalMs], ['writer total, CPU time of this process (all threads)', cpuMs]];
  console.log(`synth ${width}×${height}, 3 people, ${n} images, 1 thread (template build once: ${templateMs.toFixed(0)} ms)`);
  console.log(`(load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)} on ${(await import('node:os')).cpus().length} cores: wall times include waiting for other processes)`);
  console.log('| stage | ms/image | images/s | vs goal 20/s |');
  console.log('|---|---|---|---|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${(1000 / ms).toFixed(1)} | ${(1000 / ms / 20).toFixed(2)}× |`);
}
