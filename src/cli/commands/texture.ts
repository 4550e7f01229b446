import { readFile } from 'node:fs/promises';
import { DensePoseError } from '../../errors.ts';
import { readImage } from '../../infer/image-io.ts';
import { extractAtlas, paintAtlas, peopleFromChallengeResults, readAtlasImage, savePng } from '../../vis/index.ts';
import { optFlag, optNumber, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';

export const TEXTURE_SPEC: CommandSpec = {
  name: 'texture',
  usage: [
    'texture IMAGE --results RESULTS.json --atlas ATLAS.png --out OUT.png [--parts 1,2,...]',
    'texture IMAGE --results RESULTS.json --extract --out ATLAS.png [--person K] [--tile-size N]',
  ],
  description: `Paints a texture atlas onto every person of IMAGE, or (--extract) builds an atlas from one person.
RESULTS.json is a COCO DensePose results file (challenge format: bbox, score, uv_shape, uv_data),
as written by "densepose infer". The atlas is DensePose's layout: 4N wide × 6N tall, an N×N tile
per part (part I in column floor((I-1)/6), row (I-1) mod 6), U along x and 1-V along y; alpha or,
without alpha, black marks transparent texels. An extracted atlas has its small holes filled
from neighbouring seen texels (--fill 0 keeps only the texels seen).`,
  options: [
    { name: 'results', value: 'FILE', help: 'detections (required)' },
    { name: 'out', value: 'FILE', help: 'output PNG (required)' },
    { name: 'image-id', value: 'ID', help: 'use the detections of this image_id', default: 'the only one in the file' },
    { name: 'min-score', value: 'S', help: 'ignore detections scoring below S', default: 0.5 },
    { name: 'atlas', value: 'FILE', help: 'texture atlas to paint (paint mode)' },
    { name: 'parts', value: 'LIST', help: 'paint only these parts, e.g. 1,2,15,16', default: 'all 24' },
    { name: 'extract', help: 'build an atlas from a person instead (RGBA PNG, transparent where unseen)' },
    { name: 'person', value: 'K', help: 'which person to extract: K-th by descending score', default: 0 },
    { name: 'tile-size', value: 'N', help: 'tile size of the extracted atlas (200 → 800×1200)', default: 200 },
    { name: 'fill', value: 'N', help: 'extract: fill holes up to N texels from a seen texel (0 = no filling)', default: 'tile size / 25' },
  ],
};

/** `densepose texture`: texture transfer through the DensePose atlas. */
export async function textureCommand(argv: string[]): Promise<number> {
  const args = parseCommand(argv, TEXTURE_SPEC);
  if (!args) return 0;
  const [imagePath, ...extra] = args.positional;
  const resultsPath = optString(args, 'results');
  const out = optString(args, 'out');
  const extract = optFlag(args, 'extract');
  const atlasPath = optString(args, 'atlas');
  if (imagePath === undefined || extra.length > 0 || !resultsPath || !out || (!extract && !atlasPath) || (extract && atlasPath)) {
    console.error(`densepose texture: give one IMAGE, --results, --out, and either --atlas or --extract.\n\n${formatHelp(TEXTURE_SPEC)}`);
    return 2;
  }
  const minScore = optNumber(args, 'min-score', 0.5, 'texture', { min: 0, max: 1 });

  let json: unknown;
  try {
    json = JSON.parse(await readFile(resultsPath, 'utf8'));
  } catch (e) {
    throw new DensePoseError('BAD_FILE', `cannot read results JSON: ${(e as Error).message}`, { where: resultsPath, cause: e });
  }
  if (!Array.isArray(json)) throw new DensePoseError('BAD_INPUT', 'expected a JSON array of detections (COCO results format)', { where: resultsPath });
  const ids = [...new Set((json as { image_id?: unknown }[]).map((r) => r.image_id))];
  let imageId: number | undefined;
  if (optString(args, 'image-id') !== undefined) {
    imageId = optNumber(args, 'image-id', 0, 'texture', { integer: true, min: 0 });
    if (!ids.includes(imageId)) throw new DensePoseError('NOT_FOUND', `no detections for image_id ${imageId}; the file has image_id ${ids.join(', ')}`, { where: resultsPath });
  } else if (ids.length > 1) {
    throw new DensePoseError('BAD_OPTION', `detections of several images (image_id ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}); pick one with --image-id`, { where: resultsPath });
  }
  const people = await peopleFromChallengeResults(json, { imageId, minScore, where: resultsPath });
  const image = await readImage(imagePath);

  if (extract) {
    const k = optNumber(args, 'person', 0, 'texture', { integer: true, min: 0 });
    const ranked = [...people].sort((a, b) => b.score - a.score);
    const person = ranked[k];
    if (!person) throw new DensePoseError('NOT_FOUND', `--person ${k}: only ${ranked.length} detection(s) score ≥ ${minScore}`, { where: resultsPath });
    const tileSize = optNumber(args, 'tile-size', 200, 'texture', { integer: true, min: 1, max: 4096 });
    const atlas = extractAtlas(image, person, { tileSize, fill: optNumber(args, 'fill', Math.round(tileSize / 25), 'texture', { integer: true, min: 0, max: 4096 }) });
    await savePng(out, atlas);
    let covered = 0;
    for (let t = 3; t < atlas.data.length; t += 4) if (atlas.data[t]) covered++;
    console.log(`extracted person ${k} (score ${person.score.toFixed(3)}) → ${out} (${atlas.width}×${atlas.height}, ${covered} texels seen)`);
    return 0;
  }

  const partsArg = optString(args, 'parts');
  const parts = partsArg?.split(',').map((s) => Number(s.trim()));
  const atlas = await readAtlasImage(atlasPath!);
  const painted = paintAtlas(image, people, atlas, parts ? { parts } : {});
  await savePng(out, painted);
  console.log(`painted ${people.length} person(s) → ${out}`);
  return 0;
}
