import { InvalidInputError } from '@recipe-kit/core';
import { PROMPT_SOURCES, type PromptSource } from '@recipe-kit/prompt-encoder';
import { trainRecipe } from '../recipe/train-recipe.js';
import { optionalNumber, requireString, type Command } from './command.js';

export const trainRecipeCommand: Command = {
  name: 'train-recipe',
  summary: 'Train RECIPE (retriever, knowledge sentinel, prompt encoder) against a frozen LLM; resumable, seeded.',
  usage:
    'recipe-kit train-recipe --model DIR [--tokenizer PATH] --dataset counterfact|zsre|ripe|synthetic --data PATH [--split train|eval] [--limit N] --steps N --out DIR [--encoder default|HF_DIR] [--representation-dim 256] [--prompt-source representation|target] [--prompt-norm 0] [--prompt-length 3] [--sentinel-length 10] [--encoder-vocabulary N] [--encoder-hash-buckets N] [--encoder-char-ngrams N] [--freeze-word-vectors] [--init-from DIR] [--relation-group 1] [--batch-size 8] [--lr 1e-5] [--prompt-lr LR] [--seed 1] [--checkpoint-every 250] [--log-every 10] [--no-resume] [--reliability-weight 1] [--generality-weight 1] [--locality-weight 1] [--contrastive-weight 1] [--edit-hinge 1.2] [--contrastive-hinge 1.2]',
  options: {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    dataset: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    limit: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
    encoder: { type: 'string' },
    'representation-dim': { type: 'string' },
    'prompt-source': { type: 'string' },
    'prompt-norm': { type: 'string' },
    'prompt-length': { type: 'string' },
    'sentinel-length': { type: 'string' },
    'encoder-vocabulary': { type: 'string' },
    'encoder-hash-buckets': { type: 'string' },
    'freeze-word-vectors': { type: 'boolean' },
    'encoder-char-ngrams': { type: 'string' },
    'init-from': { type: 'string' },
    'relation-group': { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    'prompt-lr': { type: 'string' },
    seed: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'log-every': { type: 'string' },
    'no-resume': { type: 'boolean' },
    'reliability-weight': { type: 'string' },
    'generality-weight': { type: 'string' },
    'locality-weight': { type: 'string' },
    'contrastive-weight': { type: 'string' },
    'edit-hinge': { type: 'string' },
    'contrastive-hinge': { type: 'string' },
  },
  async run(values, io) {
    const split = values['split'];
    if (split !== undefined && split !== 'eval' && split !== 'train') {
      throw new InvalidInputError(`--split is "${String(split)}".`, 'Use --split train (default) or --split eval.');
    }
    const number = (name: string, options: { integer?: boolean; min?: number; max?: number }): number | undefined => optionalNumber(values, name, options);
    const limit = number('limit', { integer: true, min: 1 });
    const tokenizer = values['tokenizer'];
    const representationDim = number('representation-dim', { integer: true, min: 1 });
    const promptLength = number('prompt-length', { integer: true, min: 1 });
    const promptNorm = number('prompt-norm', { min: 0 });
    const promptSource = values['prompt-source'];
    if (promptSource !== undefined && !(PROMPT_SOURCES as readonly unknown[]).includes(promptSource)) {
      throw new InvalidInputError(`--prompt-source is "${String(promptSource)}".`, `Use one of ${PROMPT_SOURCES.join(', ')} (default representation: the spec's p_k = MLP_P(r_k)).`);
    }
    const sentinelLength = number('sentinel-length', { integer: true, min: 1 });
    const encoderVocabulary = number('encoder-vocabulary', { integer: true, min: 1 });
    const hashBuckets = number('encoder-hash-buckets', { integer: true, min: 1 });
    const charNgramBuckets = number('encoder-char-ngrams', { integer: true, min: 0 });
    const relationGroupSize = number('relation-group', { integer: true, min: 1 });
    const initFrom = values['init-from'];
    const batchSize = number('batch-size', { integer: true, min: 2 });
    const learningRate = number('lr', { min: 1e-9, max: 1 });
    const promptLearningRate = number('prompt-lr', { min: 1e-9, max: 1 });
    const seed = number('seed', { integer: true, min: 0 });
    const weights: Record<string, number> = {};
    for (const [flag, key] of [
      ['reliability-weight', 'reliabilityWeight'],
      ['generality-weight', 'generalityWeight'],
      ['locality-weight', 'localityWeight'],
      ['contrastive-weight', 'contrastiveWeight'],
      ['edit-hinge', 'editHingeScale'],
      ['contrastive-hinge', 'contrastiveHingeScale'],
    ] as const) {
      const value = number(flag, { min: 0 });
      if (value !== undefined) weights[key] = value;
    }
    const result = await trainRecipe({
      model: requireString(values, 'model', this),
      ...(typeof tokenizer === 'string' ? { tokenizer } : {}),
      dataset: requireString(values, 'dataset', this),
      data: requireString(values, 'data', this),
      ...(split ? { split } : {}),
      ...(limit !== undefined ? { limit } : {}),
      steps: number('steps', { integer: true, min: 1 }) ?? 1000,
      out: requireString(values, 'out', this),
      resume: values['no-resume'] !== true,
      ...(typeof initFrom === 'string' ? { initFrom } : {}),
      checkpointEvery: number('checkpoint-every', { integer: true, min: 1 }) ?? 250,
      logEvery: number('log-every', { integer: true, min: 1 }) ?? 10,
      encoder: {
        encoder: typeof values['encoder'] === 'string' ? values['encoder'] : 'default',
        ...(representationDim !== undefined ? { representationDim } : {}),
        ...(promptLength !== undefined ? { promptLength } : {}),
        ...(promptSource !== undefined ? { promptSource: promptSource as PromptSource } : {}),
        ...(promptNorm !== undefined ? { promptNorm } : {}),
        ...(sentinelLength !== undefined ? { sentinelLength } : {}),
        ...(encoderVocabulary !== undefined ? { encoderVocabulary } : {}),
        ...(hashBuckets !== undefined ? { hashBuckets } : {}),
        ...(values['freeze-word-vectors'] === true ? { trainWordVectors: false } : {}),
        ...(charNgramBuckets !== undefined ? { charNgramBuckets } : {}),
      },
      hyperparameters: {
        ...(batchSize !== undefined ? { batchSize } : {}),
        ...(learningRate !== undefined ? { learningRate } : {}),
        ...(promptLearningRate !== undefined ? { promptLearningRate } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(relationGroupSize !== undefined ? { relationGroupSize } : {}),
        ...weights,
      },
      command: `recipe-kit ${process.argv.slice(2).join(' ')}`,
      log: io.log,
    });
    io.out(`trained ${result.steps} steps in ${(result.seconds / 60).toFixed(1)} min; final loss ${result.finalTerms['loss']?.toFixed(4)}; w/o-KS threshold ${result.threshold.toFixed(3)}`);
  },
};
