import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataNotFoundError, InvalidCheckpointError } from '@recipe-kit/core';
import type { NamedTensor } from './named-tensor.js';
import { iterateSafetensors, readSafetensorsHeader } from './safetensors-reader.js';

/** File names Hugging Face `save_pretrained` uses for safetensors weights. */
export const safetensorsSingleFileName = 'model.safetensors';
export const safetensorsIndexFileName = 'model.safetensors.index.json';

/**
 * Yields every weight of a Hugging Face model directory, one tensor at a time, from either
 * `model.safetensors` or the shards listed in `model.safetensors.index.json` (shard by shard, so
 * only one tensor is in memory at once). `names` restricts the output; unknown names are an error.
 * Everything the index promises is checked before the first tensor is yielded, so a broken download
 * fails fast instead of after half the model was converted.
 */
export async function* iterateHuggingFaceWeights(
  dir: string,
  options?: { names?: ReadonlySet<string> },
): AsyncGenerator<[string, NamedTensor]> {
  await requireDirectory(dir);
  const singleFile = path.join(dir, safetensorsSingleFileName);
  const indexFile = path.join(dir, safetensorsIndexFileName);
  const [hasSingle, hasIndex] = await Promise.all([isFile(singleFile), isFile(indexFile)]);
  if (hasSingle && hasIndex) {
    throw new InvalidCheckpointError(
      `${dir} has both ${safetensorsSingleFileName} and ${safetensorsIndexFileName}; it is unclear which weights to load.`,
      'Delete the stale one (usually left over from an earlier save with a different shard size).',
    );
  }
  if (hasSingle) {
    yield* iterateSafetensors(singleFile, options);
    return;
  }
  if (!hasIndex) {
    throw new InvalidCheckpointError(
      `${dir} has neither ${safetensorsSingleFileName} nor ${safetensorsIndexFileName}.`,
      'Download the safetensors weights of the model (PyTorch .bin weights are not read: convert them with ' +
        "`model.save_pretrained(dir, safe_serialization=True)`).",
    );
  }

  const weightMap = await readWeightMap(indexFile);
  const wanted = options?.names;
  if (wanted) {
    const unknown = [...wanted].filter((name) => !weightMap.has(name));
    if (unknown.length > 0) {
      throw new InvalidCheckpointError(
        `${indexFile} lists no tensor named ${unknown.slice(0, 5).map((name) => `"${name}"`).join(', ')}.`,
        'Check the requested weight names against the weight_map of the index.',
      );
    }
  }

  // Group tensor names by shard; shards are visited in file-name order (model-00001-of-… first).
  const namesByShard = new Map<string, Set<string>>();
  for (const [name, shard] of weightMap) {
    if (wanted && !wanted.has(name)) continue;
    let names = namesByShard.get(shard);
    if (!names) namesByShard.set(shard, (names = new Set()));
    names.add(name);
  }
  const shards = [...namesByShard.keys()].sort();

  const missingShards: string[] = [];
  for (const shard of shards) if (!(await isFile(path.join(dir, shard)))) missingShards.push(shard);
  if (missingShards.length > 0) {
    throw new InvalidCheckpointError(
      `${indexFile} refers to shard file(s) missing from ${dir}: ${missingShards.join(', ')}.`,
      'Download all shards listed in the index (an interrupted download often leaves some out).',
    );
  }
  for (const shard of shards) {
    const shardFile = path.join(dir, shard);
    const names = namesByShard.get(shard) as Set<string>;
    const header = await readSafetensorsHeader(shardFile);
    const absent = [...names].filter((name) => !header.tensors.has(name));
    if (absent.length > 0) {
      throw new InvalidCheckpointError(
        `${indexFile} maps ${absent.slice(0, 5).map((name) => `"${name}"`).join(', ')} to ${shard}, but that shard has no such tensor.`,
        'The index and the shards come from different saves: download the index and all shards again together.',
      );
    }
    yield* iterateSafetensors(shardFile, { names });
  }
}

/** Reads `config.json` of a Hugging Face model directory as a plain JSON object. */
export async function readHuggingFaceConfig(dir: string): Promise<Record<string, unknown>> {
  await requireDirectory(dir);
  const configFile = path.join(dir, 'config.json');
  const parsed = await readJsonFile(configFile, 'Download config.json of the model into the same directory as its weights.');
  if (!isRecord(parsed)) {
    throw new InvalidCheckpointError(
      `${configFile} is not a JSON object.`,
      'Restore the config.json that belongs to the model (it maps setting names to values).',
    );
  }
  return parsed;
}

async function readWeightMap(indexFile: string): Promise<Map<string, string>> {
  const index = await readJsonFile(indexFile, 'Download the index file of the model again.');
  const weightMap = isRecord(index) ? index['weight_map'] : undefined;
  if (!isRecord(weightMap)) {
    throw new InvalidCheckpointError(
      `${indexFile} has no "weight_map" object mapping tensor names to shard files.`,
      'Download the index file of the model again.',
    );
  }
  const entries = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    // Shards must sit next to the index: refusing paths keeps a crafted index from reading other files.
    if (typeof shard !== 'string' || shard === '' || shard !== path.basename(shard) || shard === '..' || shard.includes('\\')) {
      throw new InvalidCheckpointError(
        `${indexFile} maps "${name}" to ${JSON.stringify(shard)}, which is not a shard file name in the same directory.`,
        'Each weight_map value must be a plain file name such as "model-00001-of-00002.safetensors".',
      );
    }
    entries.set(name, shard);
  }
  return entries;
}

async function readJsonFile(file: string, missingHint: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InvalidCheckpointError(`Cannot read ${file}: ${(cause as Error).message}`, missingHint, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new InvalidCheckpointError(
      `${file} is not valid JSON (${(cause as Error).message}).`,
      'Fix the syntax or download the file again.',
      { cause },
    );
  }
}

async function requireDirectory(dir: string): Promise<void> {
  const stats = await stat(dir).catch(() => undefined);
  if (!stats?.isDirectory()) {
    throw new DataNotFoundError(
      `Model directory ${dir} does not exist or is not a directory.`,
      'Pass the directory holding config.json and the safetensors weights (download the model first).',
    );
  }
}

async function isFile(file: string): Promise<boolean> {
  const stats = await stat(file).catch(() => undefined);
  return stats?.isFile() ?? false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
