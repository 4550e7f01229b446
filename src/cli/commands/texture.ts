import { readFile } from 'node:fs/promises';
import { DensePoseError } from '../../errors.ts';
import { readImage } from '../../infer/image-io.ts';
import { extractAtlas, paintAtlas, peopleFromChallengeResults, readAtlasImage, savePng } from '../../vis/index.ts';
import { optFlag, optNumber, optString, parseArgs } from '../args.ts';

const HELP = `Usage:
  densepose texture IMAGE --results RESULTS.json --atlas ATLAS.png --out OUT.png [--parts 1,2,...]
  densepose texture IMAGE --results RESULTS.json --extract --out ATLAS.png [--person K] [--tile-size N]

Paints a texture atlas onto every person of IMAGE, or (--extract) builds an atlas from one person.
RESULTS.json is a COCO DensePose results file (challenge format: bbox, score, uv_shape, uv_data),
as written by "densepose infer". The atlas is DensePose's layout: 4N wide × 6N tall, an N×N tile
per part (part I in column floor((I-1)/6), row (I-1) mod 6), U along x and 1-V along y; alpha or,
without alpha, black marks transparent texels.

Options:
  --results FILE     detections (required)
  --image-id ID      use the detections of this image_id (default: the only one in the file)
  --min-score S      ignore detections scoring below S (default 0.5)
  --atlas FILE       texture atlas to paint (paint mode)
  --parts LIST       paint only these parts, e.g. 1,2,15,16 (default all 24)
  --extract          build an atlas from a person instead (RGBA PNG, transparent where unseen)
  --person K         which person to extract: K-th by descending score (default 0)
  --tile-size N      tile size of the extracted atlas (default 200 → 800×1200)
  --out FILE         output PNG (required)`;

/** `densepose texture`: texture transfer through the DensePose atlas. */
export async function textureCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ['results', 'atlas', 'out', 'image-id', 'min-score', 'parts', 'person', 'tile-size'], flags: ['extract', 'help'] }, 'texture');
  if (optFlag(args, 'help')) {
    console.log(HELP);
    return 0;
  }
  const [imagePath, ...extra] = args.positional;
  const resultsPath = optString(args, 'results');
  const out = optString(args, 'out');
  const extract = optFlag(args, 'extract');
  const atlasPath = optString(args, 'atlas');
  if (imagePath === undefined || extra.length > 0 || !resultsPath || !out || (!extract && !atlasPath) || (extract && atlasPath)) {
    console.error(`densepose texture: give one IMAGE, --results, --out, and either --atlas or --extract.\n\n${HELP}`);
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
    const atlas = extractAtlas(image, person, { tileSize: optNumber(args, 'tile-size', 200, 'texture', { integer: true, min: 1, max: 4096 }) });
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
