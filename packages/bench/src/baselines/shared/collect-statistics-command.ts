import path from 'node:path';
import { selectBackend } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { requireString, type Command } from '../../cli/command.js';
import { baselineLayers } from './baseline-layers.js';
import { editorOption } from './editor-option.js';
import { loadOrCollectSecondMoments } from './second-moment-cache.js';
import { statisticsCorpus } from './statistics-corpus.js';

/** `recipe-kit collect-statistics`: the covariance statistics ROME, MEMIT and WILKE read, computed once into the cache. */
export const collectStatisticsCommand: Command = {
  name: 'collect-statistics',
  summary: 'Compute (or find cached) the MLP-key second moments C = E[k kᵀ] that ROME, MEMIT and WILKE use, into <model>/statistics.',
  usage: 'recipe-kit collect-statistics --model DIR [--layers 0,1] [--corpus synthetic|counterfact|FILE] [--out DIR]',
  options: {
    model: { type: 'string' },
    layers: { type: 'string' },
    corpus: { type: 'string' },
    out: { type: 'string' },
  },
  async run(values, io) {
    await selectBackend({ log: io.log });
    const directory = requireString(values, 'model', this);
    const model = await loadModel(directory);
    const numLayers = model.dimensions.numLayers;
    // Default: every layer the three editors use on this model.
    const used = [...new Set([baselineLayers.rome(numLayers), ...baselineLayers.memit(numLayers), ...baselineLayers.wilke(numLayers)])].sort((a, b) => a - b);
    const layers = editorOption.layers('collect-statistics', typeof values['layers'] === 'string' ? { layers: values['layers'] } : {}, 'layers', used);
    const corpus = await statisticsCorpus(typeof values['corpus'] === 'string' ? values['corpus'] : undefined, directory);
    const out = typeof values['out'] === 'string' ? values['out'] : path.join(directory, 'statistics');
    const started = performance.now();
    const moments = await loadOrCollectSecondMoments(model, layers, corpus, out, {
      log: io.log,
      onProgress: (done, total) => {
        if (done === total || done % 640 === 0) io.log(`  ${done}/${total} texts`);
      },
    });
    for (const moment of moments) io.out(`layer ${moment.layer}: ${moment.dimension}×${moment.dimension} over ${moment.count} tokens of ${corpus.name}`);
    io.out(`${out} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    model.dispose();
  },
};
