import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel } from '../contracts/causal-language-model.js';
import type { Tokenizer } from '../contracts/tokenizer.js';
import { tokenizeProbe } from '../text/tokenize-probe.js';

/** A (prompt, target) pair as the LLM trains on it: input = ids[:-1], labels = ids[1:], scored from `firstScored`. */
export interface TokenizedPair {
  input: number[];
  labels: number[];
  /** Label positions ≥ this are target tokens (spec §3.1: len(tokens(prompt)) − 1). */
  firstScored: number;
}

/** Tokenizes pairs once and remembers them (training draws the same pairs many times). */
export class PairTokenizer {
  private readonly cache = new Map<string, TokenizedPair>();

  constructor(private readonly tokenizer: Tokenizer) {}

  pair(prompt: string, target: string): TokenizedPair {
    const key = `${prompt}\u0000${target}`;
    let pair = this.cache.get(key);
    if (!pair) {
      const { context, continuation } = tokenizeProbe(this.tokenizer, prompt, target);
      const ids = [...context, ...continuation];
      pair = { input: ids.slice(0, -1), labels: ids.slice(1), firstScored: context.length - 1 };
      this.cache.set(key, pair);
    }
    return pair;
  }
}

/** Padded batch tensors of pairs: ids [B, L] int32, labels [B, L] int32 (columns of the logits), mask [B, L]. */
export interface PairBatch {
  ids: tf.Tensor2D;
  labels: tf.Tensor2D;
  mask: tf.Tensor2D;
  /** Target positions whose token the model cannot output (outside its compact vocabulary); left out of the mask. */
  unreachable: number;
  dispose(): void;
}

/**
 * Right-pads pairs with the pad id (EOS, or 0 when the tokenizer has none). No attention mask is
 * needed: attention is causal and the padding sits after every scored position (spec §3.1).
 * With a compact output vocabulary, labels are mapped to its columns.
 */
export function buildPairBatch(model: CausalLanguageModel, pairs: readonly TokenizedPair[], outputColumns: ReadonlyMap<number, number> | null): PairBatch {
  const width = Math.max(...pairs.map((pair) => pair.input.length));
  const pad = model.tokenizer.eosId ?? 0;
  const ids = new Int32Array(pairs.length * width).fill(pad);
  const labels = new Int32Array(pairs.length * width);
  const mask = new Float32Array(pairs.length * width);
  let unreachable = 0;
  pairs.forEach((pair, row) => {
    pair.input.forEach((id, column) => (ids[row * width + column] = id));
    pair.labels.forEach((id, column) => {
      const label = outputColumns ? outputColumns.get(id) : id;
      const scored = column >= pair.firstScored;
      if (label === undefined) {
        if (scored) unreachable++;
        return;
      }
      labels[row * width + column] = label;
      if (scored) mask[row * width + column] = 1;
    });
  });
  const tensors = {
    ids: tf.tensor2d(ids, [pairs.length, width], 'int32'),
    labels: tf.tensor2d(labels, [pairs.length, width], 'int32'),
    mask: tf.tensor2d(mask, [pairs.length, width]),
  };
  return { ...tensors, unreachable, dispose: () => tf.dispose(tensors) };
}

/** Full id → logits column when the model outputs a compact vocabulary; null when it outputs all ids. */
export function outputColumns(model: CausalLanguageModel): Map<number, number> | null {
  const ids = model.outputIds;
  if (!ids) return null;
  return new Map(Array.from(ids, (id, column) => [id, column]));
}
