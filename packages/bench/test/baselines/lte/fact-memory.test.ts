import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BagOfWordsEncoder } from '../../../src/baselines/lte/bag-of-words-encoder.js';
import { FactMemory, factText } from '../../../src/baselines/lte/fact-memory.js';
import { retrievalAccuracy } from '../../../src/baselines/lte/retrieval-accuracy.js';
import { tinyRequests } from '../../recipe/tiny-recipe-fixtures.js';

describe('BagOfWordsEncoder', () => {
  it('weights words by smoothed IDF and returns unit vectors whose inner product is the cosine', () => {
    // 4 documents; "lives" in all, "anna" in 1: idf = ln(5/5)+1 = 1 and ln(5/2)+1.
    const encoder = BagOfWordsEncoder.fit(['anna lives here', 'boris lives here', 'clara lives there', 'dmitri lives there'], 1 << 16);
    expect(encoder.inverseDocumentFrequency('lives')).toBeCloseTo(1, 12);
    expect(encoder.inverseDocumentFrequency('anna')).toBeCloseTo(Math.log(5 / 2) + 1, 12);
    expect(encoder.inverseDocumentFrequency('unseen')).toBeCloseTo(Math.log(5) + 1, 12);
    const a = encoder.encode('Anna lives');
    const b = encoder.encode('lives');
    const dot = a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);
    // Two distinct buckets (65536 of them) with weights idf(anna), idf(lives): cos = idf(lives)/‖a‖.
    const idfAnna = Math.log(5 / 2) + 1;
    expect(Math.hypot(...a)).toBeCloseTo(1, 6);
    expect(dot).toBeCloseTo(1 / Math.hypot(idfAnna, 1), 6);
    expect([...encoder.encode('')].every((x) => x === 0)).toBe(true);
  });

  it('round-trips through JSON and refuses other objects with a fix', () => {
    const encoder = BagOfWordsEncoder.fit(['a b', 'b c'], 64);
    const copy = BagOfWordsEncoder.fromJson(JSON.parse(JSON.stringify(encoder.toJson())));
    expect([...copy.encode('a c d')]).toEqual([...encoder.encode('a c d')]);
    expect(() => BagOfWordsEncoder.fromJson({ format: 'other' }, 'x.json')).toThrow(/x.json is not a .*bag-of-words-encoder.*\n.*train-lte/);
    expect(() => BagOfWordsEncoder.fit([])).toThrow(/no texts/);
  });
});

describe('FactMemory', () => {
  const requests = tinyRequests();
  const encoder = BagOfWordsEncoder.fit(requests.flatMap((r) => [r.prompt, ...r.generality.map((p) => p.prompt)]));

  it('retrieves each edit from its prompt and its rephrase, best first', async () => {
    const memory = new FactMemory(encoder);
    await memory.add(requests);
    expect(retrievalAccuracy(memory, requests)).toEqual({ edits: requests.length, prompts: 1, rephrases: 1 });
    const hits = memory.search('The home of Clara Dunn is', 3);
    expect(hits.map((hit) => hit.id)[0]).toBe('edit-2');
    expect(hits[0]?.text).toBe(factText(requests[2]!));
    expect((hits[0]?.score ?? 0) > (hits[1]?.score ?? 1)).toBe(true);
    memory.dispose();
  });

  it('replaces a re-edited id, clears, and round-trips through save/load', async () => {
    const memory = new FactMemory(encoder);
    await memory.add(requests.slice(0, 3));
    await memory.add([{ ...requests[0]!, targetNew: 'Oslo' }]);
    expect(memory.size).toBe(3);
    expect(memory.search('Anna Berg lives in', 1)[0]?.text).toBe('Anna Berg lives in Oslo');
    const directory = mkdtempSync(path.join(os.tmpdir(), 'fact-memory-'));
    await memory.save(directory);
    const copy = new FactMemory(encoder);
    await copy.load(directory);
    expect(copy.search('Anna Berg lives in', 3)).toEqual(memory.search('Anna Berg lives in', 3));
    await memory.clear();
    expect(memory.size).toBe(0);
    expect(memory.search('Anna Berg lives in', 1)).toEqual([]);
    await expect(new FactMemory(BagOfWordsEncoder.fit(['other'])).load(directory)).rejects.toThrow(/another fact encoder/);
    writeFileSync(path.join(directory, 'fact-memory.json'), '{"format":"x"}');
    await expect(copy.load(directory)).rejects.toThrow(/not a .*fact-memory/);
    await expect(copy.add([requests[1]!, requests[1]!])).rejects.toThrow(/same id twice/);
    memory.dispose();
    copy.dispose();
  });
});
