import { describe, expect, it } from 'vitest';
import { InvalidDatasetError } from '@recipe-kit/core';
import { sharedData, sharedDataPath } from '@recipe-kit/core/testing';
import { datasetNames, datasetRegistry, loadEditDataset, loadGeneralTask } from '../../src/datasets/index.js';
import { fixture } from './temp-file.js';

describe('dataset registry', () => {
  it('lists the eight datasets by kind, each with a one-line description', () => {
    expect(datasetNames('edit')).toEqual(['counterfact', 'synthetic', 'zsre', 'ripe']);
    expect(datasetNames('general')).toEqual(['csqa', 'anli', 'mmlu', 'squad2']);
    for (const entry of Object.values(datasetRegistry)) expect(entry.description).toMatch(/^[^\n]{10,120}$/);
  });

  it('rejects unknown names, and names of the other kind, listing the valid ones', async () => {
    await expect(loadEditDataset('counterfactual', 'x')).rejects.toThrow(InvalidDatasetError);
    await expect(loadEditDataset('counterfactual', 'x')).rejects.toThrow(/Unknown editing dataset "counterfactual"[\s\S]*counterfact, synthetic, zsre, ripe/);
    await expect(loadGeneralTask('zsre', 'x')).rejects.toThrow(/Unknown general-ability task "zsre"[\s\S]*csqa, anli, mmlu, squad2/);
    await expect(loadEditDataset('toString', 'x')).rejects.toThrow(InvalidDatasetError);
  });

  it('loads fixtures through the registry, passing options on', async () => {
    expect(await loadEditDataset('ripe', fixture('ripe.json'), { limit: 2 })).toHaveLength(2);
    expect((await loadEditDataset('counterfact', fixture('counterfact-rome.json')))[0]?.targetNew).toBe('English');
    expect((await loadGeneralTask('squad2', fixture('squad2-dev.json'))).kind).toBe('generative');
    expect((await loadGeneralTask('mmlu', fixture('mmlu'), { split: 'dev' })).items).toHaveLength(1);
    await expect(loadGeneralTask('mmlu', fixture('mmlu'), { split: 'eval' })).rejects.toThrow(/split must be one of 'test', 'dev', 'val'/);
  });
});

describe.skipIf(!sharedData)('dataset registry on the shared files', () => {
  it('loads each shared dataset by its CLI name', async () => {
    expect(await loadEditDataset('counterfact', sharedDataPath('editing', 'counterfact'), { split: 'eval', limit: 3 })).toHaveLength(3);
    expect(await loadEditDataset('zsre', sharedDataPath('editing', 'zsre', 'zsre-eval-subset.json'))).toHaveLength(700);
    expect((await loadGeneralTask('csqa', sharedDataPath('general', 'csqa', 'dev_rand_split.jsonl'))).items).toHaveLength(1221);
    expect((await loadGeneralTask('anli', sharedDataPath('general', 'anli'), { limit: 1500 })).items).toHaveLength(1500);
    expect((await loadGeneralTask('mmlu', sharedDataPath('general', 'mmlu'), { split: 'dev' })).items).toHaveLength(285);
  });
});
