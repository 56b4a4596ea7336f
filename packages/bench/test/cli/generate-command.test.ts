import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { sharedData, sharedDataPath } from '../support/shared-data.js';

/** The greedy sample published on the stories260K model card (the code block after "temperature 0.0"). */
function publishedGreedySample(): string {
  const card = readFileSync(sharedDataPath('models', 'stories260K', 'stories260K.md'), 'utf8');
  const after = card.slice(card.indexOf('temperature 0.0'));
  const block = /```\n\$ \.\/run[^\n]*\n([\s\S]*?)```/.exec(after);
  if (!block?.[1]) throw new Error('model card sample not found');
  return block[1].trim();
}

describe.skipIf(!sharedData)('recipe-kit generate on stories260K', () => {
  const model = () => sharedDataPath('models', 'stories260K', 'stories260K.bin');
  const tokenizer = () => sharedDataPath('models', 'stories260K', 'tok512.bin');

  it('reproduces the published greedy sample from an empty prompt, token for token', () => {
    const run = runCli(['generate', '--model', model(), '--tokenizer', tokenizer(), '--prompt', '', '--max-tokens', '256', '--greedy', '--json']);
    expect(run.stderr).toMatch(/tensor backend: /);
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { promptIds: number[]; generatedIds: number[]; text: string };
    expect(result.promptIds).toEqual([1]);
    expect(result.generatedIds).toHaveLength(256);
    expect(result.text.trim()).toBe(publishedGreedySample());
  });

  it('finds tok512.bin beside the checkpoint when --tokenizer is omitted, and prints plain text', () => {
    const run = runCli(['generate', '--model', model(), '--prompt', 'Once upon a time', '--max-tokens', '12', '--greedy']);
    expect(run.status).toBe(0);
    expect(run.stdout.startsWith('Once upon a time, there was a little girl named Lily')).toBe(true);
  });
});

describe('recipe-kit generate with bad input', () => {
  it.each([
    [['generate', '--model', '/nonexistent/model', '--prompt', 'a', '--max-tokens', '2'], /Model path \/nonexistent\/model does not exist/],
    [['generate', '--prompt', 'a', '--max-tokens', '2'], /needs --model/],
    [['generate', '--model', '.', '--prompt', 'a', '--max-tokens', 'many'], /--max-tokens is "many"/],
    [['generate', '--model', '.', '--prompt', 'a', '--max-tokens', '2', '--temprature', '1'], /Unknown option '--temprature'/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j fails with a clear message and exit code 2', (args, message) => {
    const run = runCli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('reports a directory without config.json', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'recipe-kit-empty-'));
    const run = runCli(['generate', '--model', empty, '--prompt', 'a', '--max-tokens', '2']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/config\.json/);
  });

  it.skipIf(!sharedData)('rejects a prompt longer than the context window', () => {
    const prompt = 'Once upon a time there was a dog. '.repeat(80);
    const run = runCli(['generate', '--model', sharedDataPath('models', 'stories260K', 'stories260K.bin'), '--prompt', prompt, '--max-tokens', '2']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/longer than the model's context window of 512/);
  });
});
