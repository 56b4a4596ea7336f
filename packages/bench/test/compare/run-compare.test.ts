import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MissingArtifactError } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { createRandomModel, saveModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCompareConfig } from '../../src/compare/compare-config.js';
import { runCompare } from '../../src/compare/run-compare.js';
import { registerEditor } from '../../src/editors/editor-registry.js';
import { NoopEditor } from '../../src/editors/noop-editor.js';
import { createRecipeEncoder } from '../../src/recipe/create-recipe-encoder.js';
import { tinyRequests, TINY_LLAMA } from '../recipe/tiny-recipe-fixtures.js';

/** The unedited model, except that it crashes on the edit numbered `crashAtEdit` (counting from 1) while armed. */
const flaky = { armed: false, crashAtEdit: 7, edits: 0 };
registerEditor('flaky', {
  description: 'test: the unedited model that crashes once',
  create: async (model) => {
    const editor = new NoopEditor(model);
    const edit = editor.edit.bind(editor);
    editor.edit = async (requests) => {
      flaky.edits += 1;
      if (flaky.armed && flaky.edits === flaky.crashAtEdit) throw new Error('simulated crash');
      await edit(requests);
    };
    return editor;
  },
});
registerEditor('needs-artifact', {
  description: 'test: an editor whose trained artefact is missing',
  create: async () => {
    throw new MissingArtifactError('No trained hypernetwork at <model>/needs-artifact.', 'Train it first.');
  },
});

let dir: string;
let configFile: string;
const logs: string[] = [];
const log = (line: string) => logs.push(line);
const root = path.resolve(import.meta.dirname, '../../../..');

beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'run-compare-'));
  const model = path.join(dir, 'model');
  // The tiny LLaMA with a context long enough for MMLU's prompt template.
  const llm = await createRandomModel({ config: { ...TINY_LLAMA, max_position_embeddings: 256 }, tokenizer: 'llama2', seed: 1, initStd: 0.3 });
  await saveModel(llm, model);
  llm.dispose();
  // An untrained RECIPE checkpoint of the tiny model's width: retrieval is arbitrary, the machinery is real.
  const retriever = await createRecipeEncoder({ encoder: 'default', llmWidth: TINY_LLAMA.hidden_size, representationDim: 8, encoderVocabulary: 300, hashBuckets: 16, seed: 0 });
  await retriever.save(path.join(model, 'recipe'));
  retriever.dispose();
  await writeFile(path.join(dir, 'edits.json'), JSON.stringify({ format: 'recipe-kit-synthetic-edits', seed: 0, worldSeed: 0, requests: tinyRequests() }));
  configFile = path.join(dir, 'compare.json');
  await writeFile(
    configFile,
    JSON.stringify({
      title: 'tiny comparison',
      model: 'model',
      dataset: { name: 'synthetic', path: 'edits.json' },
      edits: [1, 5],
      editors: ['none', 'needs-artifact', 'flaky', 'recipe', { name: 'recipe', options: { ablation: 'no-continuous-prompt' }, edits: [5], cases: { '5': 5 } }],
      general: { tasks: { mmlu: path.join(root, 'packages/bench/test/datasets/fixtures/mmlu/test/toy_arithmetic_test.csv'), squad2: 'absent.json' }, items: 3 },
      efficiency: {
        models: [{ name: 'tiny', architecture: 'llama', config: { ...TINY_LLAMA, num_hidden_layers: 2 }, layers: 1 }],
        editors: ['recipe', 'needs-artifact', { name: 'grace', options: { steps: '1' } }, 'lte'],
        storedEdits: 2,
        queries: 2,
        repeats: 1,
      },
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function metrics(directory: string): unknown[] {
  return readFileSync(path.join(directory, 'cases.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { editSeconds: _, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
}

describe('recipe-kit compare (runCompare)', () => {
  it('an interrupted run resumes: finished cells are kept, the broken cell continues after its last chunk, and the results equal an uninterrupted run', async () => {
    const config = await readCompareConfig(configFile, root);
    const out = path.join(dir, 'run');
    flaky.armed = true;
    flaky.edits = 0;
    await expect(runCompare({ config, out, repositoryRoot: root, log })).rejects.toThrow('simulated crash');
    expect(existsSync(path.join(out, 'cells', 'none-T5', 'summary.json'))).toBe(true);
    expect(existsSync(path.join(out, 'cells', 'flaky-T1', 'summary.json'))).toBe(false);
    // Chunks 0..5 of flaky T=1 were recorded before the crash at its 7th edit.
    expect(readFileSync(path.join(out, 'cells', 'flaky-T1', 'chunks.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6);

    flaky.armed = false;
    logs.length = 0;
    const tensors = tf.memory().numTensors;
    const resumed = await runCompare({ config, out, repositoryRoot: root, log });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(logs.join('\n')).toMatch(/none T=1 finished earlier, kept/);
    expect(logs.join('\n')).toMatch(/flaky T=1 resumed at chunk 7/);
    expect(logs.join('\n')).toMatch(/skipping the needs-artifact editor: No trained hypernetwork/);
    expect(logs.join('\n')).toMatch(/general-ability task squad2 left out: .*absent\.json does not exist/);
    expect(resumed.skipped.map((entry) => entry.editor)).toEqual(['needs-artifact']);
    expect(resumed.cells.map((cell) => path.basename(cell))).toEqual(['none-T1', 'none-T5', 'flaky-T1', 'flaky-T5', 'recipe-T1', 'recipe-T5', 'recipe-w-o-cpt-T5']);

    const clean = await runCompare({ config, out: path.join(dir, 'clean'), repositoryRoot: root, log });
    for (const cell of clean.cells) expect(metrics(path.join(out, 'cells', path.basename(cell))), cell).toEqual(metrics(cell));
    // flaky is the unedited model: its resumed cell must score exactly as none.
    expect(metrics(path.join(out, 'cells', 'flaky-T1'))).toEqual(metrics(path.join(out, 'cells', 'none-T1')));
  });

  it('writes summary.json per editor and T with general ability after T edits, params.json, efficiency.json, summary.md and report.html', async () => {
    const out = path.join(dir, 'run');
    const summary = JSON.parse(readFileSync(path.join(out, 'cells', 'recipe-T5', 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ editor: 'recipe', edits: 5, cases: 10, chunks: 2 });
    expect(Object.keys(summary['general'] as object)).toEqual(['mmlu']);
    // A row with "cases" edits and scores only the first N cases; the report names it.
    const fewer = JSON.parse(readFileSync(path.join(out, 'cells', 'recipe-w-o-cpt-T5', 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(fewer).toMatchObject({ edits: 5, cases: 5, chunks: 1 });
    const none = JSON.parse(readFileSync(path.join(out, 'cells', 'none-T5', 'summary.json'), 'utf8')) as { locality: number };
    expect(none.locality).toBe(1);
    const params = JSON.parse(readFileSync(path.join(out, 'params.json'), 'utf8')) as Record<string, unknown>;
    expect(params).toMatchObject({ seed: 0, protocol: 'lifelong', generalUnavailable: { squad2: expect.stringMatching(/absent/) } });
    const efficiency = JSON.parse(readFileSync(path.join(out, 'efficiency.json'), 'utf8')) as { models: { layers: number; layersInConfig: number; editors: { editor: string; status: string; ratio: number | null; leakedTensors: number }[] }[] };
    const tiny = efficiency.models[0];
    expect(tiny?.layers).toBe(1);
    expect(tiny?.layersInConfig).toBe(2);
    expect(tiny?.editors.map((editor) => [editor.editor, editor.status])).toEqual([
      ['none', 'measured'],
      ['recipe', 'measured'],
      ['needs-artifact', 'skipped'],
      ['grace (steps=1)', 'measured'],
      ['lte', 'skipped'],
    ]);
    expect(tiny?.editors[4]).toMatchObject({ reason: expect.stringMatching(/No LTE fact encoder at .*lte\/fact-encoder\.json/) });
    for (const editor of tiny?.editors ?? []) expect(editor.leakedTensors, editor.editor).toBe(0);
    expect(tiny?.editors[1]?.ratio).toBeGreaterThan(0);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('T = 5: 10 (recipe (w/o CPT): 5)');
    for (const marker of ['data-table="main"', 'data-table="general"', 'data-table="efficiency"', 'data-table="efficiency-model"', 'data-table="ablation"', 'class="plot"', 'needs-artifact']) expect(html, marker).toContain(marker);
    expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toMatch(/\| recipe \(w\/o CPT\) \|[\s\S]*Inference time: tiny/);
  });

  it('--finished-only reports the finished cells, names the unfinished ones and runs nothing', async () => {
    const config = await readCompareConfig(configFile, root);
    delete config.efficiency;
    logs.length = 0;
    const again = await runCompare({ config, out: path.join(dir, 'run'), finishedOnly: true, repositoryRoot: root, log });
    expect(again.cells).toHaveLength(7);
    const empty = await runCompare({ config, out: path.join(dir, 'nothing-run'), finishedOnly: true, repositoryRoot: root, log });
    expect(empty.cells).toEqual([]);
    expect(empty.skipped.at(-1)?.reason).toMatch(/none T=1, none T=5, .* did not finish/);
    expect(logs.join('\n')).toMatch(/recipe T=5 has not finished: left out of the report \(--finished-only\)/);
  });

  it('--editors and --edits run only the named rows at the named T', async () => {
    const config = await readCompareConfig(configFile, root);
    delete config.efficiency;
    const only = await runCompare({ config, out: path.join(dir, 'only'), onlyEditors: ['none'], onlyEdits: [5], repositoryRoot: root, log });
    expect(only.cells.map((cell) => path.basename(cell))).toEqual(['none-T5']);
    expect(JSON.parse(readFileSync(path.join(dir, 'only', 'params.json'), 'utf8'))).toMatchObject({ onlyEditors: ['none'], onlyEdits: [5] });
  });

  it('refuses to resume into a directory computed with other settings, and --fresh starts over', async () => {
    const base = await readCompareConfig(configFile, root);
    const out = path.join(dir, 'run');
    const config = { ...base, seed: 3 };
    delete config.efficiency;
    await expect(runCompare({ config, out, repositoryRoot: root, log })).rejects.toThrow(/computed with other settings[\s\S]*--fresh/);
    await expect(runCompare({ config, out: dir, fresh: true, repositoryRoot: root, log })).rejects.toThrow(/does not look like a compare run directory/);
  });
});
