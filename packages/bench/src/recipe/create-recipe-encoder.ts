import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';
import { BertEncoder, DefaultEncoder, RecipeEncoder, type PromptSource, type SavableTextEncoder } from '@recipe-kit/prompt-encoder';

export interface RecipeEncoderChoice {
  /** `default` (the small GloVe-initialised CPU encoder) or a Hugging Face BERT/RoBERTa directory. */
  encoder: string;
  llmWidth: number;
  representationDim?: number;
  /** What MLP_P reads: r_k (`representation`, the spec) or the new target's pooled encoder features (`target`). */
  promptSource?: PromptSource;
  /** > 0: L2 norm every prompt vector is rescaled to (0: off, the spec). */
  promptNorm?: number;
  promptLength?: number;
  sentinelLength?: number;
  /** Default encoder only: pretrained words kept, and whether their vectors are trained. */
  encoderVocabulary?: number;
  /** Default encoder only: hashed rows for out-of-vocabulary words (made-up names need many). */
  hashBuckets?: number;
  trainWordVectors?: boolean;
  /** Default encoder only: rows of the char n-gram table for OOV words (0 or absent: off). */
  charNgramBuckets?: number;
  seed: number;
}

/** A fresh RecipeEncoder: new heads and sentinel around the chosen text encoder. */
export async function createRecipeEncoder(choice: RecipeEncoderChoice): Promise<RecipeEncoder> {
  let encoder: SavableTextEncoder;
  if (choice.encoder === 'default') {
    encoder = await DefaultEncoder.create({
      seed: choice.seed,
      ...(choice.encoderVocabulary !== undefined ? { vocabularySize: choice.encoderVocabulary } : {}),
      ...(choice.hashBuckets !== undefined ? { hashBuckets: choice.hashBuckets } : {}),
      ...(choice.trainWordVectors !== undefined ? { trainWordVectors: choice.trainWordVectors } : {}),
      ...(choice.charNgramBuckets !== undefined ? { charNgramBuckets: choice.charNgramBuckets } : {}),
    });
  } else {
    if (!existsSync(path.join(choice.encoder, 'config.json'))) {
      throw new InvalidInputError(`--encoder ${choice.encoder} is neither "default" nor a directory with config.json.`, 'Pass --encoder default, or a Hugging Face BERT/RoBERTa directory (config.json, model.safetensors, tokenizer files).');
    }
    encoder = await BertEncoder.load(choice.encoder);
  }
  return RecipeEncoder.create(encoder, {
    llmWidth: choice.llmWidth,
    seed: choice.seed,
    ...(choice.representationDim !== undefined ? { representationDim: choice.representationDim } : {}),
    ...(choice.promptLength !== undefined ? { promptLength: choice.promptLength } : {}),
    ...(choice.promptSource !== undefined ? { promptSource: choice.promptSource } : {}),
    ...(choice.promptNorm !== undefined ? { promptNorm: choice.promptNorm } : {}),
    ...(choice.sentinelLength !== undefined ? { sentinelLength: choice.sentinelLength } : {}),
  });
}
