import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataNotFoundError, InvalidInputError, resolveDataDirectory } from '@recipe-kit/core';
import { buildCorpus } from '../../pretraining/pretraining-corpus.js';
import { loadSyntheticWorld } from '../../synthetic-world/index.js';
import type { StatisticsCorpus } from './second-moment-cache.js';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');

/** CounterFact records per split in the counterfact micro models' pretraining corpus (their README's command). */
const COUNTERFACT_RECORDS = 500;

/**
 * The text the covariance statistics are computed over, by name: `synthetic` (the statements of the
 * synthetic world beside the model, `<model>/synthetic-world.json`), `counterfact` (CounterFact's
 * true statements with paraphrases and neighbours, the first 500 records per split, from
 * RECIPE_KIT_DATA), or a text file with one text per line. Default: `synthetic` when the model
 * directory has a synthetic world, else `counterfact` — text the micro model was trained on.
 */
export async function statisticsCorpus(choice: string | undefined, modelDirectory: string | undefined): Promise<StatisticsCorpus> {
  const worldFile = modelDirectory ? path.join(modelDirectory, 'synthetic-world.json') : undefined;
  const name = choice ?? (worldFile && existsSync(worldFile) ? 'synthetic' : 'counterfact');
  if (name === 'synthetic') {
    if (!worldFile || !existsSync(worldFile)) {
      throw new DataNotFoundError(`The synthetic statistics corpus needs ${worldFile ?? '<model>/synthetic-world.json'}.`, 'Use a model pretrained on the synthetic world, or pass --editor-option statistics-corpus=counterfact|FILE.');
    }
    const world = await loadSyntheticWorld(worldFile);
    return { name: 'synthetic-world statements', texts: world.pretrainingCorpus() };
  }
  if (name === 'counterfact') {
    const root = resolveDataDirectory(repositoryRoot);
    const data = root ? path.join(root, 'editing', 'counterfact') : undefined;
    if (!data || !existsSync(data)) {
      throw new DataNotFoundError('The counterfact statistics corpus needs ../shared/data/editing/counterfact.', 'Set RECIPE_KIT_DATA, or pass --editor-option statistics-corpus=FILE (one text per line).');
    }
    const corpus = await buildCorpus('counterfact', { seed: 0, data, records: COUNTERFACT_RECORDS });
    return { name: `CounterFact true statements (${COUNTERFACT_RECORDS} records per split)`, texts: corpus.lines };
  }
  if (!existsSync(name)) {
    throw new InvalidInputError(`statistics-corpus "${name}" is neither synthetic, counterfact nor an existing file.`, 'Pass statistics-corpus=synthetic, counterfact, or a text file with one text per line.');
  }
  const texts = (await readFile(name, 'utf8')).split('\n').filter((line) => line.trim().length > 0);
  return { name: path.basename(name), texts };
}
