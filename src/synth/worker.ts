// Worker thread of the data set writer: renders and writes the images whose indices it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { writeImage } from './dataset.ts';
import type { ImageJob } from './dataset.ts';
import { createSceneRenderer } from './scene.ts';

const job = workerData as ImageJob;
const renderer = createSceneRenderer();
parentPort!.on('message', (index: number) => {
  writeImage(job, index, (o) => renderer.render(o)).then(
    (annotations) => parentPort!.postMessage({ index, annotations }),
    (e: unknown) => parentPort!.postMessage({ index, error: e instanceof Error ? e.message : String(e) }),
  );
});
