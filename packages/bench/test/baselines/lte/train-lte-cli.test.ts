import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MissingArtifactError } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { loadModel, saveModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEditor } from '../../../src/editors/editor-registry.js';
import { tinyLlama, tinyRequests } from '../../recipe/tiny-recipe-fixtures.js';
import { runCli } from '../../support/run-cli.js';

let dir: string;
let model: string;
let edits: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'train-lte-cli-'));
  model = path.join(dir, 'model');
  const llm = await tinyLlama(1, true);
  await saveModel(llm, model);
  llm.dispose();
  edits = path.join(dir, 'edits.json');
  await writeFile(edits, JSON.stringify({ format: 'recipe-kit-synthetic-edits', seed: 0, worldSeed: 0, requests: tinyRequests() }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('recipe-kit train-lte → eval --editor lte', () => {
  it('fine-tunes on LTE\'s data mix, writes the aligned model with its card, and the result is an evaluable editor', async () => {
    const out = path.join(dir, 'lte');
    const trained = runCli(['train-lte', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '3', '--batch-size', '4', '--checkpoint-every', '2', '--log-every', '1', '--out', out]);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/trained 3 steps on \d+ examples .* retrieval top-1 100\.0% prompts/);
    for (const file of ['config.json', 'model.safetensors', 'fact-encoder.json', 'training.json', 'training-log.jsonl', 'README.md']) expect(existsSync(path.join(out, file)), file).toBe(true);
    expect(existsSync(path.join(out, '.checkpoint'))).toBe(false);
    const training = JSON.parse(await readFile(path.join(out, 'training.json'), 'utf8')) as { exampleCounts: Record<string, number>; steps: number };
    expect(training.steps).toBe(3);
    expect(training.exampleCounts['in-scope with facts']).toBeGreaterThan(0);
    expect(training.exampleCounts['out-of-scope with facts']).toBeGreaterThan(0);
    expect(await readFile(path.join(out, 'README.md'), 'utf8')).toMatch(/recipe-kit train-lte --model .* --steps 3/);
    const log = (await readFile(path.join(out, 'training-log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { step: number; loss: number });
    expect(log.map((row) => row.step)).toEqual([1, 2, 3]);

    const evaluated = runCli(['eval', '--editor', 'lte', '--checkpoint', out, '--model', model, '--dataset', 'synthetic', '--data', edits, '--protocol', 'lifelong', '--edits', '5', '--out', path.join(dir, 'run')]);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/\| lte \|/);
  });

  it('a model without an aligned LTE model is a MissingArtifactError; bad flags say what to pass', async () => {
    const llm = await loadModel(model);
    await expect(createEditor('lte', llm, { modelDirectory: model })).rejects.toThrow(MissingArtifactError);
    await expect(createEditor('lte', llm, { checkpoint: path.join(dir, 'lte'), options: { 'top-k': '0' } })).rejects.toThrow(/top-k "0"/);
    llm.dispose();
    const bad = runCli(['train-lte', '--model', model, '--dataset', 'synthetic', '--data', edits, '--split', 'test']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--split is "test"[\s\S]*--split train/);
  });
});
