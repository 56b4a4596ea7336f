import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDataDirectory, selectBackend, type CausalLanguageModel } from '@recipe-kit/core';
import { createRandomModel, loadModel, saveModel } from '@recipe-kit/llm-adapters';
import type { Command } from './command.js';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

interface DemoRow {
  model: string;
  architecture: string;
  parameters: number;
  tokens: number;
  tokensPerSecond: number;
  text: string;
}

async function greedyRow(label: string, model: CausalLanguageModel, prompt: string, maxTokens: number): Promise<DemoRow> {
  let ids = model.tokenizer.encode(prompt, { addBos: true });
  if (ids.length === 0 && model.tokenizer.eosId !== null) ids = [model.tokenizer.eosId];
  const started = performance.now();
  const result = await model.generate(ids, { maxTokens, greedy: true });
  const seconds = (performance.now() - started) / 1000;
  const parameters = model.weightNames().reduce((total, name) => total + model.getWeight(name).size, 0);
  return {
    model: label,
    architecture: model.architecture,
    parameters,
    tokens: result.generatedIds.length,
    tokensPerSecond: result.generatedIds.length / seconds,
    text: `${prompt}${result.text}`,
  };
}

/** The main job for now: greedy generation from real and freshly made checkpoints. */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'Greedy generation from stories260K and from tiny LLaMA / GPT-J checkpoints made on the fly.',
  usage: 'recipe-kit demo [--max-tokens N]',
  options: { 'max-tokens': { type: 'string' } },
  async run(values, io) {
    const maxTokens = Number(values['max-tokens'] ?? 48);
    const backend = await selectBackend();
    const rows: DemoRow[] = [];
    const dataDirectory = resolveDataDirectory(repositoryRoot);
    if (dataDirectory) {
      const directory = path.join(dataDirectory, 'models', 'stories260K');
      const model = await loadModel(path.join(directory, 'stories260K.bin'), { tokenizer: path.join(directory, 'tok512.bin') });
      rows.push(await greedyRow('stories260K (llama2.c .bin)', model, 'Once upon a time', maxTokens));
      model.dispose();
    } else {
      io.log('stories260K skipped: shared data not found (set RECIPE_KIT_DATA to the data directory).');
    }
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'recipe-kit-demo-'));
    try {
      const tiny = [
        {
          label: 'tiny LLaMA-2 (random, safetensors)',
          tokenizer: 'llama2',
          config: { model_type: 'llama', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 32000, max_position_embeddings: 256 },
        },
        {
          label: 'tiny GPT-J (random, sharded safetensors)',
          tokenizer: 'gpt2',
          config: { model_type: 'gptj', n_embd: 64, n_inner: 256, n_layer: 2, n_head: 4, rotary_dim: 8, vocab_size: 50257, n_positions: 256 },
        },
      ];
      for (const [index, spec] of tiny.entries()) {
        const made = await createRandomModel({ config: spec.config, tokenizer: spec.tokenizer, seed: 1, initStd: 0.2 });
        const directory = path.join(scratch, `model-${index}`);
        await saveModel(made, directory, index === 1 ? { maxShardBytes: 4_000_000 } : {});
        made.dispose();
        const model = await loadModel(directory);
        rows.push(await greedyRow(spec.label, model, 'The mother tongue of Danielle Darrieux is', Math.min(maxTokens, 16)));
        model.dispose();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    io.out(`Greedy generation (${backend.description})\n`);
    io.out('| model | architecture | parameters | tokens | tokens/s | text |');
    io.out('|---|---|---:|---:|---:|---|');
    for (const row of rows) {
      const text = row.text.replace(/\s+/g, ' ').slice(0, 100);
      io.out(`| ${row.model} | ${row.architecture} | ${row.parameters.toLocaleString('en-US')} | ${row.tokens} | ${row.tokensPerSecond.toFixed(1)} | ${text}… |`);
    }
  },
};
