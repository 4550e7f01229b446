// Worker thread of the data set writer: renders and writes the images whose indices it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { DensePoseError } from '../errors.ts';
import { writeImage } from './dataset.ts';
import type { ImageJob } from './dataset.ts';
import { createSceneRenderer } from './scene.ts';

const job = workerData as ImageJob;
const renderer = createSceneRenderer();
parentPort!.on('message', (index: number) => {
  writeImage(job, index, (o) => renderer.render(o)).then(
    (annotations) => parentPort!.postMessage({ index, annotations }),
    // the error's code and place travel with it, so the main thread reports it as it happened
    (e: unknown) => parentPort!.postMessage(e instanceof DensePoseError ? { index, error: e.detail, code: e.code, where: e.where } : { index, error: e instanceof Error ? e.message : String(e) }),
  );
});
