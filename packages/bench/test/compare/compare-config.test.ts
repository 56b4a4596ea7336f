import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataNotFoundError, InvalidConfigError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { parseCompareConfig, readCompareConfig } from '../../src/compare/compare-config.js';
import { expandEditorRows } from '../../src/compare/run-compare.js';

const base = '/configs';
const valid = {
  model: '../models/m',
  dataset: { name: 'synthetic', path: '$DATA/edits.json' },
  edits: [10, 1],
  editors: ['all', { name: 'recipe', options: { ablation: 'no-sentinel' }, edits: [10] }],
  general: { tasks: { csqa: '$DATA/general/csqa.jsonl' }, items: 5 },
  efficiency: { models: ['llama-1b', { name: 'small', architecture: 'gptj', config: { n_layer: 2 } }], editors: ['recipe', { name: 't-patcher', options: { steps: '1' } }] },
};

function parse(value: unknown, data: string | null = '/data') {
  return parseCompareConfig(value, 'c.json', base, data);
}

describe('compare config', () => {
  it('resolves paths against the config folder and $DATA, sorts T, and fills defaults', () => {
    const config = parse(valid);
    expect(config.model).toBe('/models/m');
    expect(config.dataset.path).toBe('/data/edits.json');
    expect(config.edits).toEqual([1, 10]);
    expect(config.protocol).toBe('lifelong');
    expect(config.seed).toBe(0);
    expect(config.allEditors).toBe(true);
    expect(config.editors).toEqual([{ name: 'recipe', options: { ablation: 'no-sentinel' }, edits: [10] }]);
    expect(config.general).toEqual({ tasks: { csqa: '/data/general/csqa.jsonl' }, unavailable: {}, items: 5, chunks: 1 });
    expect(config.efficiency?.models.map((model) => [model.name, model.architecture, model.config['n_layer'] ?? model.config['num_hidden_layers']])).toEqual([
      ['llama-1b', 'llama', 22],
      ['small', 'gptj', 2],
    ]);
    expect(config.efficiency?.storedEdits).toBe(8);
    expect(config.efficiency?.editors).toEqual([{ name: 'recipe', options: {} }, { name: 't-patcher', options: { steps: '1' } }]);
    expect(parse({ ...valid, efficiency: { models: ['llama-1b'] } }).efficiency?.editors).toEqual([{ name: 'all', options: {} }]);
    expect(parse({ ...valid, editors: [{ name: 'rome', cases: { '1': 200, '10': 200 } }] }).editors).toEqual([{ name: 'rome', options: {}, cases: { 1: 200, 10: 200 } }]);
  });

  it('names the field, the value and the fix for bad input', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...valid, edits: [1, 1] }, /"edits" is \[1,1\], expected a list without repeated values/],
      [{ ...valid, edits: [0] }, /"edits" is \[0\], expected a non-empty list of positive integers/],
      [{ ...valid, protocl: 'lifelong' }, /"protocl" is not a field[\s\S]*Use one of: title, model/],
      [{ ...valid, protocol: 'serial' }, /"protocol" is "serial", expected one of "single", "batch", "lifelong"/],
      [{ ...valid, editors: [{ name: 'recipe', options: { ablation: 1 } }] }, /"editors\[0\]\.options\.ablation" is 1, expected a string/],
      [{ ...valid, editors: [{ name: 'recipe', edits: [100] }] }, /asks for T = 100, which is not in "edits"/],
      [{ ...valid, editors: [{ name: 'rome', cases: { '1': 0 } }] }, /"editors\[0\]\.cases\.1" is 0, expected an integer ≥ 1/],
      [{ ...valid, editors: [{ name: 'rome', cases: { first: 20 } }] }, /"editors\[0\]\.cases\.first" is "first", expected a key that is a T value/],
      [{ ...valid, editors: [{ name: 'rome', edits: [10], cases: { '1': 20 } }] }, /sets "cases" for T = 1, which the row does not run/],
      [{ ...valid, editors: [] }, /"editors" is \[\], expected at least one editor/],
      [{ ...valid, efficiency: { models: ['llama-70b'] } }, /"efficiency\.models\[0\]" is "llama-70b", which is no preset[\s\S]*llama-1b, gptj-1b/],
      [{ ...valid, efficiency: { models: ['llama-1b'], editors: [{ name: 'grace', option: {} }] } }, /"efficiency\.editors\[0\]\.option" is not a field/],
      [{ ...valid, efficiency: { models: ['llama-1b'], editors: [7] } }, /"efficiency\.editors" .*editor names, \{ "name", "options" \} objects/],
      [{ ...valid, dataset: { name: 'x' } }, /"dataset\.path" is missing, expected a non-empty string/],
      [[], /must hold a JSON object/],
    ];
    for (const [value, message] of cases) {
      expect(() => parse(value), message.source).toThrow(InvalidConfigError);
      expect(() => parse(value)).toThrow(message);
    }
  });

  it('without the data directory, $DATA edit data is an error, a $DATA general task is left out with the reason', () => {
    expect(() => parse(valid, null)).toThrow(DataNotFoundError);
    const config = parse({ ...valid, dataset: { name: 'synthetic', path: 'edits.json' } }, null);
    expect(config.general?.tasks).toEqual({});
    expect(config.general?.unavailable['csqa']).toMatch(/data directory is absent/);
  });

  it('reads a file and reports a missing file or bad JSON with the fix', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compare-config-'));
    writeFileSync(path.join(dir, 'bad.json'), '{ "model": ');
    await expect(readCompareConfig(path.join(dir, 'bad.json'), dir)).rejects.toThrow(/is not valid JSON[\s\S]*configs\/README\.md/);
    await expect(readCompareConfig(path.join(dir, 'none.json'), dir)).rejects.toThrow(/cannot be read[\s\S]*--config/);
  });

  it('the committed configs are valid', async () => {
    const root = path.resolve(import.meta.dirname, '../../../..');
    for (const name of ['main.json', 'counterfact-llama.json', 'counterfact-gptj.json']) {
      const config = await readCompareConfig(path.join(root, 'configs', name), root).catch((error: unknown) => {
        // Without the shared data a $DATA dataset cannot resolve; that is the only acceptable failure.
        if (error instanceof DataNotFoundError) return null;
        throw error;
      });
      if (config) expect(config.editors.length + (config.allEditors ? 1 : 0)).toBeGreaterThan(0);
    }
  });

  it('"all" expands to the registered editors (registry order), explicit rows follow, unknown names are refused', () => {
    const config = parse(valid);
    expect(expandEditorRows(config, ['none', 'recipe', 'rome']).map((row) => [row.name, row.options])).toEqual([
      ['none', {}],
      ['recipe', {}],
      ['rome', {}],
      ['recipe', { ablation: 'no-sentinel' }],
    ]);
    expect(() => expandEditorRows({ allEditors: false, editors: [{ name: 'romee', options: {} }] }, ['none', 'rome'])).toThrow(/editor "romee" that is not registered[\s\S]*Use one of: none, rome/);
  });
});
