import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { modelFingerprint, readSafetensors, writeSafetensors, type CausalLanguageModel } from '@recipe-kit/core';
import { collectSecondMoments, type CollectOptions, type SecondMoment } from './collect-second-moments.js';

/** Texts the statistics are computed over, with a name for logs and files. */
export interface StatisticsCorpus {
  name: string;
  texts: readonly string[];
}

const FORMAT = 'recipe-kit-second-moment-1';

interface CachedEntry {
  format: typeof FORMAT;
  modelFingerprint: string;
  corpus: string;
  corpusSha256: string;
  layer: number;
  dimension: number;
  count: number;
}

export function corpusSha256(corpus: StatisticsCorpus): string {
  return createHash('sha256').update(corpus.texts.join('\n')).digest('hex');
}

/**
 * C per layer for `model` over `corpus`: read from `directory` when a file with the same model
 * fingerprint, corpus hash and layer is there, else collected (all missing layers in one pass) and
 * written there as `second-moment-layer<l>-<key>.safetensors` + `.json` (float32, as the reference stores it).
 */
export async function loadOrCollectSecondMoments(
  model: CausalLanguageModel,
  layers: readonly number[],
  corpus: StatisticsCorpus,
  directory: string,
  options: CollectOptions & { log?: (line: string) => void } = {},
): Promise<SecondMoment[]> {
  const fingerprint = modelFingerprint(model);
  const corpusHash = corpusSha256(corpus);
  const fileOf = (layer: number): string => {
    const key = createHash('sha256').update(`${FORMAT}|${fingerprint}|${corpusHash}|${layer}`).digest('hex').slice(0, 16);
    return path.join(directory, `second-moment-layer${layer}-${key}`);
  };
  const found = new Map<number, SecondMoment>();
  for (const layer of layers) {
    const base = fileOf(layer);
    if (!existsSync(`${base}.json`) || !existsSync(`${base}.safetensors`)) continue;
    const entry = JSON.parse(await readFile(`${base}.json`, 'utf8')) as Partial<CachedEntry>;
    if (entry.format !== FORMAT || entry.modelFingerprint !== fingerprint || entry.corpusSha256 !== corpusHash || entry.layer !== layer) continue;
    const tensor = (await readSafetensors(`${base}.safetensors`)).get('second_moment');
    if (!tensor || typeof entry.count !== 'number' || typeof entry.dimension !== 'number') continue;
    found.set(layer, { layer, dimension: entry.dimension, count: entry.count, matrix: Float64Array.from(tensor.data) });
  }
  const missing = layers.filter((layer) => !found.has(layer));
  if (missing.length > 0) {
    // A cache, recomputable by this function in seconds for micro models: kept out of git.
    await mkdir(directory, { recursive: true });
    if (!existsSync(path.join(directory, '.gitignore'))) await writeFile(path.join(directory, '.gitignore'), '*\n');
    options.log?.(`collecting second-moment statistics of layers ${missing.join(', ')} over ${corpus.texts.length} texts of ${corpus.name}`);
    for (const moment of collectSecondMoments(model, missing, corpus.texts, options)) {
      const base = fileOf(moment.layer);
      await writeSafetensors(`${base}.safetensors`, [['second_moment', { shape: [moment.dimension, moment.dimension], data: Float32Array.from(moment.matrix) }]]);
      const entry: CachedEntry = { format: FORMAT, modelFingerprint: fingerprint, corpus: corpus.name, corpusSha256: corpusHash, layer: moment.layer, dimension: moment.dimension, count: moment.count };
      await writeFile(`${base}.json`, `${JSON.stringify(entry, null, 2)}\n`);
      found.set(moment.layer, moment);
    }
  }
  return layers.map((layer) => found.get(layer) as SecondMoment);
}
