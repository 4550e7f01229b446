import { DensePoseError } from '../../errors.ts';
import { cachedModel, listModels, loadZooIndex, pullModel, removeModel, strayCacheEntries, zooCacheDir, type PullProgress } from '../../zoo/cache.ts';
import { readdirSync } from 'node:fs';
import { exportModel } from '../../infer/model-cache.ts';
import { optFlag, optString } from '../args.ts';
import { formatHelp, parseCommand, type CommandSpec } from '../command-spec.ts';
import { createProgress, type Progress } from '../progress.ts';

const ACTIONS = ['list', 'pull', 'path', 'rm', 'export'] as const;

export const MODELS_SPEC: CommandSpec = {
  name: 'models',
  usage: ['models <list | pull NAME… | path NAME | rm NAME… | export NAME --out DIR> [--json]'],
  description: `The model zoo by name: detectron2's DensePose IUV models (models/zoo.json; $DENSEPOSE_ZOO_INDEX points at
another index with the same schema). A model is downloaded once (resumable), checked against the index's
md5 prefix, converted into a model file and kept in the cache:
$DENSEPOSE_CACHE, else $XDG_CACHE_HOME/densepose-ts, else ~/.cache/densepose-ts (under zoo/NAME/).
DENSEPOSE_OFFLINE=1 never downloads. Names work wherever a model file does:
  densepose infer photo.jpg --model R_50_FPN_s1x --out out/
  createDensePose({ model: 'R_50_FPN_s1x' })

Actions:
  list         every model: name, reported box / DensePose GPS / GPSm AP, cached or not
  pull NAME…   download, verify and convert (a bar on stderr)
  path NAME    print the cached model file (exit code 1 when not cached)
  rm NAME…     delete cached models
  export NAME --out DIR
               write the model's browser directory (spec.json + ONNX stages) to DIR; serve DIR/../ as the
               browser createDensePose's baseUrl to use the name there (files kept with the Cache API)`,
  options: [
    { name: 'out', value: 'DIR', help: 'output folder of "export"' },
    { name: 'json', help: 'machine-readable output' },
  ],
};

/** A CLI progress bar for a pull: bytes while downloading, then the phase. */
export function pullProgressBar(label: string): (p: PullProgress) => void {
  let bar: Progress | undefined;
  let shown = 0;
  return (p) => {
    if (p.phase === 'download') {
      bar ??= createProgress(Math.ceil((p.total ?? 0) / 1e6), `${label} (MB)`);
      // the bar counts MB so its rate and counts read naturally
      const mb = Math.floor(p.received / 1e6);
      if (mb > shown) {
        bar.tick(mb - shown);
        shown = mb;
      }
      return;
    }
    if (bar) {
      bar.done(p.phase);
      bar = undefined;
    }
    const what = { wait: 'another pull of this model holds its lock; waiting for it', verify: 'verifying checksum', convert: 'converting to a model file', done: '' }[p.phase];
    if (what) console.error(`${label}: ${what}…`);
  };
}

/** `densepose models list | pull | path | rm`. */
export async function modelsCommand(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    console.log(formatHelp(MODELS_SPEC));
    return 1;
  }
  const args = parseCommand(argv, MODELS_SPEC);
  if (!args) return 0;
  const [action, ...names] = args.positional;
  const json = optFlag(args, 'json');
  if (!(ACTIONS as readonly string[]).includes(action ?? '')) {
    throw new DensePoseError('BAD_OPTION', `densepose models: unknown action "${action}". Expected one of: ${ACTIONS.join(', ')}.`);
  }
  if (action !== 'list' && names.length === 0) throw new DensePoseError('BAD_OPTION', `densepose models ${action}: needs a model name (see "densepose models list")`);
  if ((action === 'path' || action === 'export') && names.length > 1) throw new DensePoseError('BAD_OPTION', `densepose models ${action}: one name at a time`);
  if (action === 'export') {
    const out = optString(args, 'out');
    if (!out) throw new DensePoseError('BAD_OPTION', 'densepose models export: needs --out DIR');
    const c = await pullModel(names[0]!, json ? {} : { onProgress: pullProgressBar(names[0]!) });
    await exportModel(c.modelFile, out, { overwrite: true });
    const files = readdirSync(out).sort();
    console.log(json ? JSON.stringify({ name: c.name, files }) : `${c.name}: wrote ${out} (${files.join(', ')})`);
    return 0;
  }

  if (action === 'list') {
    const rows = listModels();
    const { index } = loadZooIndex();
    if (json) {
      console.log(JSON.stringify({ cache: zooCacheDir(), licence: index.licence, models: rows.map(({ entry, cached }) => ({ ...entry, cached: cached?.modelFile ?? null })) }));
      return 0;
    }
    const width = Math.max(...rows.map((r) => r.entry.name.length));
    console.log(`${'name'.padEnd(width)}  box AP  GPS AP  GPSm AP  cached`);
    for (const { entry, cached } of rows) {
      const ap = entry.ap;
      const f = (v: number | undefined) => (v === undefined ? '' : v.toFixed(1)).padStart(6);
      console.log(`${entry.name.padEnd(width)}  ${f(ap?.box)}  ${f(ap?.gps)}  ${f(ap?.gpsm)}   ${cached ? 'yes' : '-'}`);
    }
    const stray = strayCacheEntries();
    if (stray.length > 0) console.log(`not in the index but cached: ${stray.join(', ')}`);
    console.log(`\n${index.source}; weights licensed ${index.licence}${index.licenceUrl ? ` (${index.licenceUrl})` : ''}. Cache: ${zooCacheDir()}`);
    return 0;
  }
  if (action === 'path') {
    const c = cachedModel(names[0]!);
    if (!c) {
      console.error(`densepose models path: "${names[0]}" is not cached (densepose models pull ${names[0]})`);
      return 1;
    }
    console.log(json ? JSON.stringify({ name: c.name, modelFile: c.modelFile, manifest: c.manifest }) : c.modelFile);
    return 0;
  }
  if (action === 'rm') {
    for (const name of names) {
      const removed = removeModel(name);
      if (json) console.log(JSON.stringify({ name, removed }));
      else console.log(removed ? `removed ${name}` : `${name} was not cached`);
    }
    return 0;
  }
  for (const name of names) {
    const c = await pullModel(name, json ? {} : { onProgress: pullProgressBar(name) });
    if (json) console.log(JSON.stringify({ name: c.name, modelFile: c.modelFile, manifest: c.manifest }));
    else console.log(`${c.name}: ${c.modelFile} (sha256 ${c.manifest.sha256})`);
  }
  return 0;
}
