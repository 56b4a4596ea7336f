import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '@recipe-kit/llm-adapters';
import { describe, expect, it } from 'vitest';
import { pretrain } from '../../src/pretraining/pretrain.js';

describe('recipe-kit pretrain', () => {
  it('writes a loadable Hugging Face directory with the world, the edits and a model card', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'recipe-kit-pretrain-')), 'model');
    const command = 'recipe-kit pretrain --arch gptj --corpus synthetic --steps 6';
    const result = await pretrain({
      architecture: 'gptj', corpus: 'synthetic', out, seed: 3, steps: 6, batchSize: 8, learningRate: 3e-3, checkpointEvery: 3, command, log: () => {},
    });
    expect(result.accuracies.map((a) => a.name)).toEqual(['facts under training templates', 'facts under held-out paraphrases']);
    for (const file of ['config.json', 'model.safetensors', 'README.md', 'synthetic-world.json', 'synthetic-edits.json']) {
      expect(existsSync(path.join(out, file))).toBe(true);
    }
    expect(existsSync(path.join(out, '.checkpoint'))).toBe(false);
    const card = readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(card).toContain(command);
    expect(card).toMatch(/\| seed \| 3 \|/);
    expect(card).toMatch(/sha256 `[0-9a-f]{64}`/);
    const model = await loadModel(out);
    expect(model.architecture).toBe('gptj');
    expect(model.dimensions.vocabSize).toBe(50257);
    model.dispose();
  });

  it('rejects an unknown corpus and a CounterFact corpus without data', async () => {
    const base = { architecture: 'llama' as const, out: os.tmpdir(), seed: 0, steps: 1, batchSize: 1, learningRate: 1e-3, checkpointEvery: 1, command: '', log: () => {} };
    await expect(pretrain({ ...base, corpus: 'wikipedia' })).rejects.toThrow(/no pretraining corpus named "wikipedia"/);
    await expect(pretrain({ ...base, corpus: 'counterfact' })).rejects.toThrow(/needs --data/);
  });
});
