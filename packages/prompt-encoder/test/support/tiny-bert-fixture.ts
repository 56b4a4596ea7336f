import { createRandom } from '@recipe-kit/core';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeSafetensors, type NamedTensor, type WritableTensor } from '../../src/index.js';

/** The project's seeded PRNG (mulberry32), so random tests are reproducible. */
export const fixtureRandom = createRandom;

/** Byte-level BPE vocabulary: specials, the 256 byte characters, and a few merged tokens. */
export function tinyRobertaTokenizerFiles(): { vocabJson: string; mergesText: string; vocabSize: number } {
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) vocab[printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++)] = 4 + b;
  const merges = ['h e', 'l l', 'he ll', 'hell o', 'Ġ t', 'Ġt he'];
  let next = 260;
  for (const merge of merges) vocab[merge.replace(' ', '')] = next++;
  return { vocabJson: JSON.stringify(vocab), mergesText: `#version: 0.2\n${merges.join('\n')}\n`, vocabSize: next };
}

export interface TinyBertOptions {
  modelType: 'bert' | 'roberta';
  /** Prefix of the stored names ('roberta.' as RobertaForMaskedLM, '' as RobertaModel). */
  prefix: string;
  withPooler: boolean;
  vocabSize: number;
  hiddenSize?: number;
  numLayers?: number;
  numHeads?: number;
  intermediateSize?: number;
  maxPositions?: number;
  seed?: number;
}

/**
 * Writes config.json + model.safetensors of a random tiny BERT/RoBERTa in Hugging Face layout
 * (PyTorch [out, in] linear weights), plus an MLM-head tensor and an int64 position-id buffer that a
 * loader must ignore. Returns the stored tensors by unprefixed name. Weights have std 0.5 (not 0.02)
 * so the layers do real work.
 */
export async function writeTinyBert(dir: string, options: TinyBertOptions): Promise<{ tensors: Map<string, NamedTensor>; config: Record<string, unknown> }> {
  const hidden = options.hiddenSize ?? 8;
  const layers = options.numLayers ?? 2;
  const intermediate = options.intermediateSize ?? 16;
  const maxPositions = options.maxPositions ?? 16;
  const typeVocab = options.modelType === 'roberta' ? 1 : 2;
  const random = fixtureRandom(options.seed ?? 7);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const tensors = new Map<string, NamedTensor>();
  const add = (name: string, shape: number[], kind: 'weight' | 'ones' | 'bias'): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = kind === 'weight' ? 0.5 * normal() : kind === 'ones' ? 1 + 0.1 * normal() : 0.1 * normal();
    tensors.set(name, { shape, data });
  };
  add('embeddings.word_embeddings.weight', [options.vocabSize, hidden], 'weight');
  add('embeddings.position_embeddings.weight', [maxPositions, hidden], 'weight');
  add('embeddings.token_type_embeddings.weight', [typeVocab, hidden], 'weight');
  add('embeddings.LayerNorm.weight', [hidden], 'ones');
  add('embeddings.LayerNorm.bias', [hidden], 'bias');
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const part of ['query', 'key', 'value']) {
      add(`${p}attention.self.${part}.weight`, [hidden, hidden], 'weight');
      add(`${p}attention.self.${part}.bias`, [hidden], 'bias');
    }
    add(`${p}attention.output.dense.weight`, [hidden, hidden], 'weight');
    add(`${p}attention.output.dense.bias`, [hidden], 'bias');
    add(`${p}attention.output.LayerNorm.weight`, [hidden], 'ones');
    add(`${p}attention.output.LayerNorm.bias`, [hidden], 'bias');
    add(`${p}intermediate.dense.weight`, [intermediate, hidden], 'weight');
    add(`${p}intermediate.dense.bias`, [intermediate], 'bias');
    add(`${p}output.dense.weight`, [hidden, intermediate], 'weight');
    add(`${p}output.dense.bias`, [hidden], 'bias');
    add(`${p}output.LayerNorm.weight`, [hidden], 'ones');
    add(`${p}output.LayerNorm.bias`, [hidden], 'bias');
  }
  if (options.withPooler) {
    add('pooler.dense.weight', [hidden, hidden], 'weight');
    add('pooler.dense.bias', [hidden], 'bias');
  }
  const written: [string, WritableTensor][] = [...tensors].map(([name, tensor]) => [options.prefix + name, tensor]);
  written.push(['lm_head.dense.weight', { shape: [hidden, hidden], data: new Float32Array(hidden * hidden) }]);
  written.push([
    `${options.prefix}embeddings.position_ids`,
    { shape: [1, maxPositions], int64: BigInt64Array.from({ length: maxPositions }, (_, i) => BigInt(i)) },
  ]);
  const config = {
    model_type: options.modelType,
    vocab_size: options.vocabSize,
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: options.numHeads ?? 2,
    intermediate_size: intermediate,
    hidden_act: 'gelu',
    max_position_embeddings: maxPositions,
    type_vocab_size: typeVocab,
    layer_norm_eps: options.modelType === 'roberta' ? 1e-5 : 1e-12,
    pad_token_id: options.modelType === 'roberta' ? 1 : 0,
  };
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  await writeSafetensors(path.join(dir, 'model.safetensors'), written);
  return { tensors, config };
}
