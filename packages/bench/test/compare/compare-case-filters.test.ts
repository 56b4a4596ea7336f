import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { useTestBackend } from '@recipe-kit/core/testing';
import { createRandomModel, saveModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCompareConfig } from '../../src/compare/compare-config.js';
import { runCompare } from '../../src/compare/run-compare.js';
import { tinyRequests, TINY_LLAMA } from '../recipe/tiny-recipe-fixtures.js';

// The tiny model's compact output vocabulary holds every fixture token except those of "Paris",
// so the edits towards Paris (edits 1 and 6 of 10) are unreachable for any editor.
let dir: string;
const unreachableCity = 'Paris';

beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'compare-filters-'));
  const full = await createRandomModel({ config: { ...TINY_LLAMA }, tokenizer: 'llama2', seed: 1, initStd: 0.3 });
  const ids = new Set<number>([0, 1, 2]);
  for (const request of tinyRequests()) {
    for (const text of [request.prompt, request.targetNew, ...request.generality.map((p) => `${p.prompt} ${p.target}`), ...request.locality.map((p) => `${p.prompt} ${p.target}`)]) {
      for (const id of full.tokenizer.encode(text, { addBos: true })) ids.add(id);
    }
  }
  const parisIds = full.tokenizer.encode(` ${unreachableCity}`, { addBos: false });
  for (const id of parisIds) ids.delete(id);
  full.dispose();
  const model = await createRandomModel({ config: { ...TINY_LLAMA, recipe_kit_vocabulary_ids: [...ids].sort((a, b) => a - b) }, tokenizer: 'llama2', seed: 1, initStd: 0.3 });
  await saveModel(model, path.join(dir, 'model'));
  model.dispose();
  await writeFile(path.join(dir, 'edits.json'), JSON.stringify({ format: 'recipe-kit-synthetic-edits', seed: 0, worldSeed: 0, requests: tinyRequests() }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function compareCases(name: string, skipUnreachable: boolean): Promise<{ ids: string[]; dataset: { cases: number; skippedUnreachable: number } }> {
  const configFile = path.join(dir, `${name}.json`);
  await writeFile(configFile, JSON.stringify({ title: name, model: 'model', dataset: { name: 'synthetic', path: 'edits.json' }, edits: [1], limit: 5, skipUnreachable, editors: ['none'] }));
  const out = path.join(dir, name);
  await runCompare({ config: await readCompareConfig(configFile, dir), out, log: () => undefined, repositoryRoot: dir });
  const ids = readFileSync(path.join(out, 'cells/none-T1/cases.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { caseId: string }).caseId);
  const params = JSON.parse(readFileSync(path.join(out, 'params.json'), 'utf8')) as { dataset: { cases: number; skippedUnreachable: number } };
  return { ids, dataset: params.dataset };
}

describe('compare case filters', () => {
  it('skipUnreachable drops edits whose target the model cannot output, then takes the first `limit` of the rest', async () => {
    const parisEdits = tinyRequests().filter((request) => request.targetNew === unreachableCity).map((request) => request.id);
    expect(parisEdits.length).toBeGreaterThan(0);
    const filtered = await compareCases('filtered', true);
    expect(filtered.ids).toHaveLength(5);
    expect(filtered.ids.every((id) => id.startsWith('edit-'))).toBe(true);
    expect(filtered.ids.some((id) => parisEdits.includes(id))).toBe(false);
    expect(filtered.dataset).toMatchObject({ cases: 5, skippedUnreachable: 1 });
    // Without the filter the first five cases are taken as they come, Paris included.
    const unfiltered = await compareCases('unfiltered', false);
    expect(unfiltered.ids.some((id) => parisEdits.includes(id))).toBe(true);
    expect(unfiltered.dataset).toMatchObject({ cases: 5, skippedUnreachable: 0 });
  }, 120_000);
});
