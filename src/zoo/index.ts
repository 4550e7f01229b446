// The model index: which named models exist, where their weights are, how to check them and which of
// our configs they load into. The shipped index (models/zoo.json) lists detectron2's 22 DensePose IUV
// models (projects/DensePose/doc/DENSEPOSE_IUV.md); DENSEPOSE_ZOO_INDEX points at another file with the
// same schema (mirrors, private models). No Node-only imports: the browser reads the same index.
import { DensePoseError } from '../errors.ts';
import shippedIndex from '../../models/zoo.json' with { type: 'json' };

/** Version of the index schema this code reads. */
export const ZOO_INDEX_VERSION = 1;

/** Accuracy detectron2 reports for a model on COCO DensePose minival (AP in %). */
export interface ZooAp {
  box: number;
  segm: number;
  /** DensePose AP with GPS. */
  gps: number;
  /** DensePose AP with GPSm. */
  gpsm: number;
}

/** One named model. */
export interface ZooEntry {
  /** Name used everywhere (`createDensePose({ model: name })`, `densepose infer --model name`): `R_50_FPN_s1x`. */
  name: string;
  /** detectron2's config name: `densepose_rcnn_R_50_FPN_s1x`. */
  detectron2Config: string;
  /** Our config file, relative to the package root (shipped index) or to the index file (others). */
  config: string;
  /** detectron2 model id (the URL's number). */
  modelId: number;
  /** The first 6 hex digits of the checkpoint's md5 (detectron2's `model_final_<suffix>.pkl`). */
  md5Prefix: string;
  /** Where the checkpoint is downloaded from (http/https; `.pkl` or `.pth`). */
  url: string;
  /** Full sha256 of the checkpoint, when the index knows it (checked in addition to the md5 prefix). */
  sha256?: string;
  ap?: ZooAp;
}

export interface ZooIndex {
  version: number;
  /** Where the rows come from. */
  source: string;
  /** Licence of the weights. */
  licence: string;
  licenceUrl?: string;
  models: ZooEntry[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(where: string, message: string): DensePoseError {
  return new DensePoseError('BAD_FILE', message, { where });
}

function str(o: Json, key: string, where: string, pattern?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || (pattern && !pattern.test(v))) {
    throw bad(where, `"${key}" must be ${pattern ? `a string matching ${pattern}` : 'a non-empty string'}, got ${JSON.stringify(v)}`);
  }
  return v;
}

const ENTRY_KEYS = ['name', 'detectron2Config', 'config', 'modelId', 'md5Prefix', 'url', 'sha256', 'ap'] as const;
const AP_KEYS = ['box', 'segm', 'gps', 'gpsm'] as const;

/** Validate a parsed index (schema of models/zoo.json); errors name the row and the field. */
export function validateZooIndex(json: unknown, where = 'model index'): ZooIndex {
  if (!isObject(json)) throw bad(where, 'a model index must be a JSON object');
  if (json['version'] !== ZOO_INDEX_VERSION) throw bad(where, `"version" must be ${ZOO_INDEX_VERSION}, got ${JSON.stringify(json['version'])}`);
  const models = json['models'];
  if (!Array.isArray(models)) throw bad(where, '"models" must be a list');
  const seen = new Set<string>();
  const entries = models.map((m, i): ZooEntry => {
    const at = `${where}: models[${i}]`;
    if (!isObject(m)) throw bad(at, 'must be an object');
    for (const k of Object.keys(m)) if (!(ENTRY_KEYS as readonly string[]).includes(k)) throw bad(at, `Unknown field "${k}". Expected one of: ${ENTRY_KEYS.join(', ')}.`);
    const name = str(m, 'name', at, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    if (seen.has(name)) throw bad(at, `duplicate model name "${name}"`);
    seen.add(name);
    const modelId = m['modelId'];
    if (typeof modelId !== 'number' || !Number.isSafeInteger(modelId) || modelId < 0) throw bad(at, `"modelId" must be a non-negative integer, got ${JSON.stringify(modelId)}`);
    const entry: ZooEntry = {
      name,
      detectron2Config: str(m, 'detectron2Config', at),
      config: str(m, 'config', at, /\.(json|ya?ml)$/),
      modelId,
      md5Prefix: str(m, 'md5Prefix', at, /^[0-9a-f]{6,32}$/),
      url: str(m, 'url', at, /^https?:\/\/\S+\.(pkl|pth)$/),
    };
    if (m['sha256'] !== undefined) entry.sha256 = str(m, 'sha256', at, /^[0-9a-f]{64}$/);
    const ap = m['ap'];
    if (ap !== undefined) {
      if (!isObject(ap) || !AP_KEYS.every((k) => typeof ap[k] === 'number' && ap[k] >= 0 && ap[k] <= 100)) {
        throw bad(at, `"ap" must be { ${AP_KEYS.join(', ')} } with numbers in [0, 100], got ${JSON.stringify(ap)}`);
      }
      entry.ap = { box: ap['box'] as number, segm: ap['segm'] as number, gps: ap['gps'] as number, gpsm: ap['gpsm'] as number };
    }
    return entry;
  });
  return {
    version: ZOO_INDEX_VERSION,
    source: str(json, 'source', where),
    licence: str(json, 'licence', where),
    ...(typeof json['licenceUrl'] === 'string' ? { licenceUrl: json['licenceUrl'] } : {}),
    models: entries,
  };
}

let shipped: ZooIndex | undefined;

/** The index shipped with the package (models/zoo.json), validated once. */
export function shippedZooIndex(): ZooIndex {
  shipped ??= validateZooIndex(shippedIndex, 'models/zoo.json');
  return shipped;
}

/** Strip detectron2's `densepose_rcnn_` prefix and a `.yaml` suffix: both spellings name the same model. */
function canonicalName(name: string): string {
  return name.replace(/^densepose_rcnn_/, '').replace(/\.ya?ml$/, '');
}

/** The entry named `name` (`R_50_FPN_s1x` or `densepose_rcnn_R_50_FPN_s1x`), or undefined. */
export function findZooEntry(index: ZooIndex, name: string): ZooEntry | undefined {
  const c = canonicalName(name);
  return index.models.find((m) => m.name === c || canonicalName(m.detectron2Config) === c);
}

/** Like {@link findZooEntry}, but an unknown name is a `NOT_FOUND` error listing the valid ones. */
export function getZooEntry(index: ZooIndex, name: string): ZooEntry {
  const e = findZooEntry(index, name);
  if (!e) throw new DensePoseError('NOT_FOUND', `Unknown model "${name}". Expected a model file or one of: ${index.models.map((m) => m.name).join(', ')}.`);
  return e;
}

/** True when `model` looks like a name rather than a path (no slash, no file extension). */
export function looksLikeModelName(model: string): boolean {
  return !/[\\/]/.test(model) && !/\.(safetensors|pkl|pth|json|ya?ml|onnx)$/i.test(model);
}
