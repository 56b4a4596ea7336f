import { selectBackend } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { optionalNumber, requireString, type Command } from './command.js';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'Generate text from a model (Hugging Face directory or llama2.c .bin).',
  usage:
    'recipe-kit generate --model PATH [--tokenizer PATH|llama2|gpt2] --prompt TEXT --max-tokens N [--greedy] [--temperature T] [--top-p P] [--seed S] [--json]',
  options: {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    prompt: { type: 'string' },
    'max-tokens': { type: 'string' },
    greedy: { type: 'boolean' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, io) {
    const modelPath = requireString(values, 'model', this);
    const prompt = typeof values['prompt'] === 'string' ? values['prompt'] : '';
    if (values['prompt'] === undefined) requireString(values, 'prompt', this);
    const maxTokens = optionalNumber(values, 'max-tokens', { integer: true, min: 0 });
    if (maxTokens === undefined) requireString(values, 'max-tokens', this);
    const temperature = optionalNumber(values, 'temperature', { min: 0 });
    const topP = optionalNumber(values, 'top-p', { min: 0, max: 1 });
    const seed = optionalNumber(values, 'seed', { integer: true, min: 0 });
    await selectBackend();
    const tokenizerOption = typeof values['tokenizer'] === 'string' ? { tokenizer: values['tokenizer'] } : {};
    const model = await loadModel(modelPath, tokenizerOption);
    try {
      const { tokenizer } = model;
      let promptIds = tokenizer.encode(prompt, { addBos: true });
      // GPT-2 has no BOS: an empty prompt starts from <|endoftext|>, as Hugging Face does.
      if (promptIds.length === 0 && tokenizer.eosId !== null) promptIds = [tokenizer.eosId];
      const result = await model.generate(promptIds, {
        maxTokens: maxTokens as number,
        greedy: values['greedy'] === true,
        ...(temperature !== undefined ? { temperature } : {}),
        ...(topP !== undefined ? { topP } : {}),
        ...(seed !== undefined ? { seed } : {}),
      });
      if (values['json'] === true) {
        io.out(JSON.stringify({ promptIds: result.promptIds, generatedIds: result.generatedIds, text: result.text }));
      } else {
        io.out(`${prompt}${result.text}`);
        io.log(`[${result.generatedIds.length} tokens, stopped: ${result.stopReason}]`);
      }
    } finally {
      model.dispose();
    }
  },
};
