import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MissingArtifactError } from '@recipe-kit/core';
import { RecipeEncoder } from '@recipe-kit/prompt-encoder';
import { useTestBackend } from '@recipe-kit/core/testing';
import { loadModel, saveModel } from '@recipe-kit/llm-adapters';
import { createEditor } from '../../src/editors/editor-registry.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyLlama, tinyRequests } from '../recipe/tiny-recipe-fixtures.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
let model: string;
let edits: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'train-recipe-cli-'));
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

const small = ['--encoder-vocabulary', '300', '--encoder-hash-buckets', '16', '--representation-dim', '8', '--batch-size', '4', '--lr', '1e-2', '--checkpoint-every', '2', '--log-every', '1'];

describe('recipe-kit train-recipe → eval --editor recipe', () => {
  it('trains with checkpoints, resumes to more steps, and the result is an evaluable editor', () => {
    const out = path.join(dir, 'recipe');
    const first = runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '4', '--out', out, ...small]);
    expect(first.status, first.stderr).toBe(0);
    for (const file of ['recipe-encoder.json', 'recipe-heads.safetensors', 'training.json', 'calibration.json', 'README.md', 'training-log.jsonl']) expect(existsSync(path.join(out, file)), file).toBe(true);
    expect(existsSync(path.join(out, 'checkpoints', 'step-4', 'optimizer.safetensors'))).toBe(true);

    const resumed = runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '6', '--out', out, ...small]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from .*step-4 \(step 4\)/);

    const run = path.join(dir, 'run');
    const evaluated = runCli(['eval', '--editor', 'recipe', '--checkpoint', out, '--model', model, '--dataset', 'synthetic', '--data', edits, '--protocol', 'lifelong', '--edits', '5', '--out', run]);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/\| recipe \|/);
    const ablation = runCli(['eval', '--editor', 'recipe', '--checkpoint', out, '--editor-option', 'ablation=no-sentinel', '--model', model, '--dataset', 'synthetic', '--data', edits, '--edits', '5', '--out', path.join(dir, 'run-ks')]);
    expect(ablation.status, ablation.stderr).toBe(0);
    expect(ablation.stdout).toMatch(/\| recipe \(w\/o KS\) \|/);
  });

  it('reads its training log: every line carries each loss term', async () => {
    const lines = (await readFile(path.join(dir, 'recipe', 'training-log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, number>);
    expect(lines.map((line) => line['step'])).toEqual([1, 2, 3, 4, 5, 6]);
    for (const key of ['loss', 'reliability', 'generality', 'locality', 'queryToKnowledge', 'queryToSentinel', 'localityToSentinel']) expect(typeof lines[0]?.[key]).toBe('number');
  });

  it('warm-starts from a trained directory into an encoder with char n-grams, with same-relation batches', async () => {
    const out = path.join(dir, 'warm');
    const warm = runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '2', '--out', out, ...small, '--encoder-char-ngrams', '64', '--relation-group', '2', '--init-from', path.join(dir, 'recipe')]);
    expect(warm.status, warm.stderr).toBe(0);
    expect(warm.stderr).toMatch(/warm start from .*recipe: \d+ weights copied; fresh: encoder\.word_vectors\.char_ngrams\n/);
    const training = JSON.parse(await readFile(path.join(out, 'training.json'), 'utf8')) as { warmStart: { copied: number; fresh: string[] }; hyperparameters: { relationGroupSize: number } };
    expect(training.warmStart.fresh).toEqual(['encoder.word_vectors.char_ngrams']);
    expect(training.warmStart.copied).toBeGreaterThan(10);
    expect(training.hyperparameters.relationGroupSize).toBe(2);
    const encoder = JSON.parse(await readFile(path.join(out, 'encoder', 'default-encoder.json'), 'utf8')) as { config: { charNgramBuckets: number } };
    expect(encoder.config.charNgramBuckets).toBe(64);
  });

  it("a warm start under another seed keeps the source's frozen word rows: the same query gets the same key", async () => {
    const source = path.join(dir, 'frozen');
    const frozen = [...small, '--freeze-word-vectors'];
    expect(runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '2', '--out', source, ...frozen]).status).toBe(0);
    const warm = path.join(dir, 'frozen-warm');
    // lr ≈ 0: the warm-started encoder must compute what the source computes.
    const trained = runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '1', '--out', warm, ...frozen, '--lr', '1e-9', '--seed', '7', '--init-from', source]);
    expect(trained.status, trained.stderr).toBe(0);
    // Made-up names are out of the 300-word vocabulary: they read the seeded hash-bucket rows.
    const texts = ['Zorvath Quellimar speaks Brindish', 'Where was Ostrava Kelmwyn born?'];
    const [before, after] = await Promise.all([RecipeEncoder.load(source), RecipeEncoder.load(warm)]);
    try {
      const [a, b] = [before.encodeQueries(texts), after.encodeQueries(texts)];
      const difference = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Number.NaN;
      const scale = tf.max(tf.abs(a)).dataSync()[0] ?? Number.NaN;
      tf.dispose([a, b]);
      expect(difference).toBeLessThan(1e-3 * scale);
    } finally {
      before.dispose();
      after.dispose();
    }
  });

  it('trains prompts from the new target with a fixed prompt norm; eval, calibration and the saved config follow', async () => {
    const out = path.join(dir, 'target-prompts');
    const trained = runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '2', '--out', out, ...small, '--prompt-source', 'target', '--prompt-norm', '3']);
    expect(trained.status, trained.stderr).toBe(0);
    const saved = JSON.parse(await readFile(path.join(out, 'recipe-encoder.json'), 'utf8')) as { heads: Record<string, unknown> };
    expect(saved.heads).toMatchObject({ promptSource: 'target', promptNorm: 3 });
    const evaluated = runCli(['eval', '--editor', 'recipe', '--checkpoint', out, '--model', model, '--dataset', 'synthetic', '--data', edits, '--edits', '5', '--out', path.join(dir, 'run-target')]);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    const bad = runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '1', '--out', path.join(dir, 'v'), '--prompt-source', 'query']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--prompt-source is "query"[\s\S]*representation, target/);
  });

  it('a model without a trained RECIPE checkpoint is a MissingArtifactError (the main job skips such editors)', async () => {
    const llm = await loadModel(model);
    await expect(createEditor('recipe', llm, { modelDirectory: model })).rejects.toThrow(MissingArtifactError);
    llm.dispose();
  });

  it('the main job runs every editor, RECIPE with its committed checkpoint, and writes the report', () => {
    const out = path.join(dir, 'main');
    // Only the two editors this test is about (the locate-then-edit baselines take seconds per edit), without the shared data's general-ability tasks.
    const main = runCli(['main', '--out', out, '--cases', '10', '--editors', 'none,recipe', '--skip-efficiency'], { RECIPE_KIT_DATA: path.join(dir, 'no-shared-data') });
    expect(main.status, main.stderr).toBe(0);
    expect(main.stdout).toMatch(/\| none \|/);
    expect(main.stdout).toMatch(/\| recipe \|/);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
  });

  it('calibrate-recipe --target-locality sweeps margins on validation edits, and eval reads the chosen one', async () => {
    const checkpoint = path.join(dir, 'recipe');
    const before = JSON.parse(await readFile(path.join(checkpoint, 'calibration.json'), 'utf8')) as Record<string, unknown>;
    const missing = runCli(['eval', '--editor', 'recipe', '--checkpoint', checkpoint, '--editor-option', 'sentinel-margin=validated', '--model', model, '--dataset', 'synthetic', '--data', edits, '--edits', '5', '--out', path.join(dir, 'v0')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no sentinel margin validated for a locality target[\s\S]*--target-locality 0.98/);
    // m = 1e6: nothing is retrieved, so the edited model is the unedited one and locality is exactly 1.
    const fitted = runCli(['calibrate-recipe', '--checkpoint', checkpoint, '--model', model, '--dataset', 'synthetic', '--data', edits, '--target-locality', '1', '--margins', '1e6,-1e6,0', '--runs', path.join(dir, 'sweep')]);
    expect(fitted.status, fitted.stderr).toBe(0);
    const after = JSON.parse(await readFile(path.join(checkpoint, 'calibration.json'), 'utf8')) as { threshold: number; localityMargin: { value: number; targetLocality: number; data: { cases: number }; sweep: { margin: number; locality: number; reliability: number; generality: number }[] } };
    expect(after.threshold).toBe(before['threshold']);
    const { sweep, value, data } = after.localityMargin;
    expect(sweep.map((point) => point.margin)).toEqual([1e6, -1e6, 0]);
    expect(sweep[0]?.locality).toBe(1);
    expect(data.cases).toBe(tinyRequests().length);
    const smallestPerfect = Math.min(...sweep.filter((point) => point.locality >= 1).map((point) => point.margin));
    expect(value).toBe(smallestPerfect);
    expect(fitted.stdout).toMatch(new RegExp(`sentinel margin ${value} for locality ≥ 1 at confidence 0.95 on ${data.cases} validation edits`));
    // The chosen margin's eval (T = all) reproduces the sweep's numbers.
    const run = path.join(dir, 'v1');
    const evaluated = runCli(['eval', '--editor', 'recipe', '--checkpoint', checkpoint, '--editor-option', 'sentinel-margin=validated', '--model', model, '--dataset', 'synthetic', '--data', edits, '--edits', 'all', '--out', run]);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/\| recipe \(validated sentinel margin\) \|/);
    const summary = JSON.parse(await readFile(path.join(run, 'summary.json'), 'utf8')) as { reliability: number; locality: number };
    const chosen = sweep.find((point) => point.margin === value);
    expect(summary.locality).toBe(chosen?.locality);
    expect(summary.reliability).toBe(chosen?.reliability);
    // m = -1e6 retrieves for every query: the prefixed locality prompts change some answers of this random model.
    expect(sweep[1]?.locality).toBeLessThan(1);
    // The sweep reads every margin off one pass (each probe scored with its top-1 prompt and unedited): each point is
    // what eval gives at that margin, where every query retrieves (m = -1e6) and at RECIPE's own rule (m = 0).
    for (const index of [1, 2]) {
      const point = sweep[index];
      const at = path.join(dir, `margin-eval-${index}`);
      const direct = runCli(['eval', '--editor', 'recipe', '--checkpoint', checkpoint, '--editor-option', `sentinel-margin=${String(point?.margin)}`, '--model', model, '--dataset', 'synthetic', '--data', edits, '--edits', 'all', '--out', at]);
      expect(direct.status, direct.stderr).toBe(0);
      const scored = JSON.parse(await readFile(path.join(at, 'summary.json'), 'utf8')) as { reliability: number; generality: number; locality: number };
      expect([scored.reliability, scored.generality, scored.locality]).toEqual([point?.reliability, point?.generality, point?.locality]);
    }
    const unreachable = runCli(['calibrate-recipe', '--checkpoint', checkpoint, '--model', model, '--dataset', 'synthetic', '--data', edits, '--target-locality', '1', '--margins=-1e6', '--runs', path.join(dir, 'sweep2')]);
    expect(unreachable.status).toBe(2);
    expect(unreachable.stderr).toMatch(/No swept margin reaches locality 1 on the validation edits at confidence 0.95 \(best lower bound 0\.\d+ at m = -1000000\)[\s\S]*Sweep larger margins/);
    const badMargins = runCli(['calibrate-recipe', '--checkpoint', checkpoint, '--model', model, '--dataset', 'synthetic', '--data', edits, '--target-locality', '0.9', '--margins', '0,x']);
    expect(badMargins.status).toBe(2);
    expect(badMargins.stderr).toMatch(/--margins has "x"/);
    const badConfidence = runCli(['calibrate-recipe', '--checkpoint', checkpoint, '--model', model, '--dataset', 'synthetic', '--data', edits, '--target-locality', '0.9', '--confidence', '0.5']);
    expect(badConfidence.status).toBe(2);
    expect(badConfidence.stderr).toMatch(/confidence 0.5 is not offered[\s\S]*0, 0.9, 0.95, 0.99/);
  });

  it('names the problem and the fix for bad input', () => {
    const missing = runCli(['eval', '--editor', 'recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--out', path.join(dir, 'x')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/No trained RECIPE checkpoint at .*recipe[\s\S]*--checkpoint DIR/);
    const option = runCli(['eval', '--editor', 'recipe', '--checkpoint', path.join(dir, 'recipe'), '--editor-option', 'ablation=nope', '--model', model, '--dataset', 'synthetic', '--data', edits, '--out', path.join(dir, 'y')]);
    expect(option.status).toBe(2);
    expect(option.stderr).toMatch(/ablation "nope" is unknown[\s\S]*no-sentinel/);
    const none = runCli(['eval', '--editor', 'none', '--editor-option', 'k=v', '--model', model, '--dataset', 'synthetic', '--data', edits, '--out', path.join(dir, 'z')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/takes no --editor-option/);
    const steps = runCli(['train-recipe', '--model', model, '--dataset', 'synthetic', '--data', edits, '--steps', '0', '--out', path.join(dir, 'w')]);
    expect(steps.status).toBe(2);
    expect(steps.stderr).toMatch(/--steps is "0"/);
  });
});
