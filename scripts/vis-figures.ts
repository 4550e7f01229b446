// docs/ figures of the pictures densepose-ts draws: the bundled model on a synthetic scene with
// people close together, drawn by src/vis (or, with --old DIR, by an older copy of src/vis for a
// before/after figure). Usage: tsx scripts/vis-figures.ts --out docs/vis-after.png [--old DIR]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createDensePose } from '../src/infer/densepose.ts';
import { renderScene } from '../src/synth/scene.ts';
import * as current from '../src/vis/index.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, old: { type: 'string' }, seed: { type: 'string', default: '11' }, atlas: { type: 'string' }, truth: { type: 'boolean', default: false } } });
const vis = (values.old ? await import(pathToFileURL(resolve(values.old, 'src/vis/index.ts')).href) : current) as typeof current;

const scene = renderScene({ width: 480, height: 320, seed: Number(values.seed), minPeople: 4, maxPeople: 4, poseSet: 'upright', truncation: false });
const image = { width: scene.width, height: scene.height, data: scene.rgb };
const dp = await createDensePose({ model: 'models/default.safetensors', scoreThreshold: 0.3 });
const predicted = await dp.estimate(image);
await dp.dispose();
// --truth: the scene's exact charts as one image-sized "person", to see the drawing on clean charts.
const truth = { box: [0, 0, scene.width, scene.height] as const, score: 1, densepose: { width: scene.width, height: scene.height, labels: scene.partIndex, u: scene.u, v: scene.v } };
const people = values.truth ? [truth] : predicted;

const panels = [values.truth ? vis.drawParts(image, people) : vis.drawBoxes(vis.drawParts(image, people), people), vis.drawUvIsolines(image, people)];
const titles = [values.truth ? 'parts (ground truth)' : 'parts + boxes', 'U/V isolines'];
if ('drawChart' in vis) {
  panels.push(vis.drawChart(image, people, 'u'), vis.drawChart(image, people, 'v'));
  titles.push('U', 'V');
}
let figure = vis.compareSideBySide(panels, titles);
if ('withPartLegend' in vis) figure = vis.withPartLegend(figure);
await vis.savePng(values.out!, figure);
if (values.atlas) {
  const best = [...people].sort((a, b) => b.score - a.score)[0]!;
  const atlas = vis.extractAtlas(image, best, { tileSize: 64 });
  // Transparent texels on grey, so holes show.
  const rgb = new Uint8Array(atlas.width * atlas.height * 3);
  for (let t = 0; t < atlas.width * atlas.height; t++) for (let c = 0; c < 3; c++) rgb[3 * t + c] = atlas.data[4 * t + 3] ? atlas.data[4 * t + c]! : 200;
  await vis.savePng(values.atlas, { width: atlas.width, height: atlas.height, data: rgb });
}
console.log(`${people.length} people → ${values.out}`);
