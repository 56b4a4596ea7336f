import path from 'node:path';
import { InvalidInputError, type CausalLanguageModel } from '@recipe-kit/core';
import type { EditorSettings } from '../../editors/editor-registry.js';
import type { SecondMoment } from './collect-second-moments.js';
import { loadOrCollectSecondMoments } from './second-moment-cache.js';
import { statisticsCorpus } from './statistics-corpus.js';

/** Option keys for where the statistics come from. */
export const STATISTICS_OPTION_KEYS = ['statistics-corpus', 'statistics-dir'] as const;

/**
 * C for each layer, cached in `<model>/statistics/` (or `statistics-dir=DIR`) and computed there on
 * first use over the model's statistics corpus (see `statisticsCorpus`). Called before any edit, so
 * the cache key names the unedited model.
 */
export async function editorSecondMoments(editor: string, model: CausalLanguageModel, layers: readonly number[], settings: EditorSettings): Promise<SecondMoment[]> {
  const options = settings.options ?? {};
  const directory = options['statistics-dir'] ?? (settings.modelDirectory ? path.join(settings.modelDirectory, 'statistics') : undefined);
  if (!directory) {
    throw new InvalidInputError(`The ${editor} editor needs a directory for its covariance statistics.`, 'Pass --editor-option statistics-dir=DIR, or load the model from a directory.');
  }
  const corpus = await statisticsCorpus(options['statistics-corpus'], settings.modelDirectory);
  return loadOrCollectSecondMoments(model, layers, corpus, directory, { log: (line) => process.stderr.write(`[${editor}] ${line}\n`) });
}
