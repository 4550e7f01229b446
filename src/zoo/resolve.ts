// The one hook model loading calls first: a model argument that names a zoo model (and is not an existing
// path) becomes the path of its cached model file, pulled on first use.
import { existsSync } from 'node:fs';
import { pullModel, loadZooIndex, type ZooOptions } from './cache.ts';
import { findZooEntry, getZooEntry, looksLikeModelName, type ZooEntry } from './index.ts';

export interface ResolvedModel {
  /** A model file path to load. */
  path: string;
  /** The zoo entry when `model` was a name. */
  zoo?: ZooEntry;
}

/**
 * `model` as given when it is an existing file; else, when it looks like a name (no slash, no file
 * extension), the zoo model of that name (pulled if needed; an unknown name is a `NOT_FOUND` error
 * listing the valid ones); else `model` unchanged, for the loader to report.
 */
export async function resolveModelSource(model: string, options: ZooOptions = {}): Promise<ResolvedModel> {
  if (existsSync(model) || !looksLikeModelName(model)) return { path: model };
  const { index } = loadZooIndex(options);
  const entry = findZooEntry(index, model) ?? getZooEntry(index, model);
  const cached = await pullModel(entry.name, options);
  return { path: cached.modelFile, zoo: entry };
}
