import { describe, expect, it } from 'vitest';
import { loadRipe } from '../../src/datasets/load-ripe.js';
import { fixture, tempJson } from './temp-file.js';

describe('loadRipe on a hand-written fixture in RECIPE\'s RIPE schema', () => {
  it('loads all six records with typed probes', async () => {
    const requests = await loadRipe(fixture('ripe.json'));
    expect(requests).toHaveLength(6);
    expect(requests[0]).toEqual({
      id: '0',
      prompt: 'The name of the country of citizenship of Leonardo DiCaprio is',
      subject: 'Leonardo DiCaprio',
      targetNew: 'Syria',
      groundTruth: 'United States of America',
      generality: [
        { prompt: 'The name of the capital city of the country of citizenship of Leonardo DiCaprio is', target: 'Damascus', type: 'Compositionality_I' },
        // The first non-empty target is used.
        { prompt: 'The name of the currency in the country of citizenship of Leonardo DiCaprio is', target: 'Syrian pound', type: 'Compositionality_I' },
        { prompt: 'The name of the country of citizenship of Leo DiCaprio is', target: 'Syria', type: 'Subject_Aliasing' },
      ],
      locality: [{ prompt: 'The name of the mother of Leonardo DiCaprio is', target: 'Irmelin DiCaprio', type: 'Relation_Specificity' }],
    });
  });

  it("sets ground truth := target_new for 'recent' examples, whatever the file says", async () => {
    const requests = await loadRipe(fixture('ripe.json'));
    expect(requests[1]?.groundTruth).toBe('Mauricio Pochettino');
    expect(requests[5]?.groundTruth).toBe('Linda Yaccarino');
  });

  it('drops items without a non-empty target and treats a missing list as empty', async () => {
    const requests = await loadRipe(fixture('ripe.json'));
    expect(requests[2]?.locality.map((probe) => probe.type)).toEqual(['Relation_Specificity']);
    expect(requests[3]?.generality).toEqual([{ prompt: 'The name of the spouse of Taylor Swift is', target: 'Barack Obama', type: 'Logical_Generalization' }]);
    expect(requests[4]?.locality).toEqual([]);
  });

  it('honours limit', async () => {
    expect(await loadRipe(fixture('ripe.json'), { limit: 2 })).toHaveLength(2);
  });

  it('names the record and field of malformed data', async () => {
    const base = { example_type: 'random', prompt: 'The official language of Sealand is', target_new: 'Finnish', subject: 'Sealand', ground_truth: 'English' };
    await expect(loadRipe(tempJson('ripe.json', [{ ...base, example_type: 'old' }]))).rejects.toThrow('ripe.json record 0: "example_type" must be one of recent, random, popular, found "old"');
    await expect(loadRipe(tempJson('ripe.json', [{ ...base, ground_truth: null }]))).rejects.toThrow('ripe.json record 0: "ground_truth" must be a non-empty string, found null');
    await expect(loadRipe(tempJson('ripe.json', [{ ...base, Forgetfulness: [{ prompt: 'x', targets: 'English' }] }]))).rejects.toThrow('"Forgetfulness[0].targets" must be a list, found "English"');
    await expect(loadRipe(tempJson('ripe.json', [{ ...base, Subject_Aliasing: { prompt: 'x' } }]))).rejects.toThrow('"Subject_Aliasing" must be a list, found an object');
  });

  it('recognises the raw RippleEdits benchmark and says what to use instead', async () => {
    const raw = { example_type: 'popular', edit: { prompt: 'The name of the country of citizenship of Leonardo DiCaprio is Syria.', subject_id: 'Q38111' } };
    await expect(loadRipe(tempJson('popular.json', [raw]))).rejects.toThrow(/raw RippleEdits benchmark format[\s\S]*ripe_test\.json/);
  });
});
