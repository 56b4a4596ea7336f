import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { useTestBackend } from '@recipe-kit/core/testing';
import { saveModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/run-cli.js';
import { tinyHypernetworkModel, tinyRequests } from './hypernetwork-fixtures.js';

let dir: string;
let model: string;
let edits: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'train-hypernetwork-cli-'));
  model = path.join(dir, 'model');
  const llm = await tinyHypernetworkModel('gptj');
  await saveModel(llm, model);
  llm.dispose();
  edits = path.join(dir, 'edits.json');
  await writeFile(edits, JSON.stringify({ format: 'recipe-kit-synthetic-edits', seed: 0, worldSeed: 0, requests: tinyRequests() }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const small = ['--edits-per-step', '4', '--rank', '8', '--checkpoint-every', '2', '--log-every', '1'];

describe.each(['mend', 'malmen'])('recipe-kit train-%s → eval --editor %s', (method) => {
  it('trains with checkpoints into <model>/<method>, resumes, writes a model card, and the default artefact is found by eval', async () => {
    const out = path.join(model, method);
    const first = runCli([`train-${method}`, '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '2', '--out', out, ...small]);
    expect(first.status, first.stderr).toBe(0);
    for (const file of ['hypernetwork.json', 'hypernetwork.safetensors', 'training.json', 'README.md', 'training-log.jsonl']) expect(existsSync(path.join(out, file)), file).toBe(true);
    const resumed = runCli([`train-${method}`, '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '3', '--out', out, ...small]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from .*step-2 \(step 2\)/);
    const log = (await readFile(path.join(out, 'training-log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, number>);
    expect(log.map((row) => row['step'])).toEqual([1, 2, 3]);
    const card = await readFile(path.join(out, 'README.md'), 'utf8');
    expect(card).toContain(`recipe-kit train-${method} --model ${model}`);
    expect(card).toMatch(/\| 3 \| [\d.]+ \|/);

    const evaluated = runCli(['eval', '--editor', method, '--model', model, '--dataset', 'synthetic', '--data', edits, '--protocol', 'lifelong', '--edits', '5', '--out', path.join(dir, `run-${method}`)]);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(new RegExp(`\\| ${method} \\|`));
  });

  it('bad flags and missing artefacts get clear errors', () => {
    const bad = runCli([`train-${method}`, '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '0', '--out', path.join(dir, 'x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--steps is "0"/);
    const missing = runCli(['eval', '--editor', method, '--checkpoint', path.join(dir, 'nowhere'), '--model', model, '--dataset', 'synthetic', '--data', edits, '--edits', '5', '--out', path.join(dir, 'run-missing')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(new RegExp(`No trained ${method.toUpperCase()} hypernetwork`));
  });
});
