import * as tf from '@tensorflow/tfjs';
import type { EditRequest, RecipeRetrieverModel } from '@recipe-kit/core';
import { createRandomModel, type DecoderModel } from '@recipe-kit/llm-adapters';

export const TINY_LLAMA = { model_type: 'llama', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 32000, max_position_embeddings: 64 } as const;

const PEOPLE = ['Anna Berg', 'Boris Cole', 'Clara Dunn', 'Dmitri Eck', 'Elena Ford', 'Felix Gray', 'Greta Holm', 'Hugo Ives', 'Irene Jung', 'Jonas Kerr'];
const CITIES = ['Rome', 'Paris', 'Berlin', 'Madrid', 'Vienna'];

/** Counterfactual edits with a rephrase and a neighbour each (about other people). */
export function tinyRequests(count = PEOPLE.length): EditRequest[] {
  return PEOPLE.slice(0, count).map((person, i) => ({
    id: `edit-${i}`,
    prompt: `${person} lives in`,
    subject: person,
    targetNew: CITIES[i % CITIES.length] as string,
    generality: [{ prompt: `The home of ${person} is`, target: CITIES[i % CITIES.length] as string, type: 'rephrase' }],
    locality: [{ prompt: `${PEOPLE[(i + 3) % PEOPLE.length]} works in`, target: CITIES[(i + 2) % CITIES.length] as string, type: 'neighborhood' }],
  }));
}

/** A tiny random LLaMA; `compact` restricts its output layer to the ids of the fixture texts (as micro models do). */
export async function tinyLlama(seed = 1, compact = false): Promise<DecoderModel> {
  const full = await createRandomModel({ config: { ...TINY_LLAMA }, tokenizer: 'llama2', seed, initStd: 0.3 });
  if (!compact) return full;
  const ids = new Set<number>([0, 1, 2]);
  for (const request of tinyRequests()) {
    for (const text of [request.prompt, request.targetNew, ...request.generality.map((p) => `${p.prompt} ${p.target}`), ...request.locality.map((p) => `${p.prompt} ${p.target}`), `${request.prompt} ${request.targetNew}`]) {
      for (const id of full.tokenizer.encode(text, { addBos: true })) ids.add(id);
    }
  }
  full.dispose();
  return createRandomModel({ config: { ...TINY_LLAMA, recipe_kit_vocabulary_ids: [...ids].sort((a, b) => a - b) }, tokenizer: 'llama2', seed, initStd: 0.3 });
}

/**
 * A retriever with known answers: a text mentioning person i has key/query e_i × 10; any other text
 * e_last × 10. The sentinel is all ones, so a query about a stored person scores 50 against its
 * fact and 5 against the sentinel (hit); any other query scores ≤ 0 against facts (miss).
 */
export class ScriptedRetriever implements RecipeRetrieverModel {
  readonly config: { representationDim: number; promptLength: number; llmWidth: number };
  disposed = false;

  constructor(llmWidth: number, readonly people: readonly string[] = PEOPLE) {
    this.config = { representationDim: people.length + 1, promptLength: 2, llmWidth };
  }

  private vectors(texts: readonly string[]): tf.Tensor2D {
    const dimension = this.config.representationDim;
    const data = new Float32Array(texts.length * dimension);
    texts.forEach((text, row) => {
      const index = this.people.findIndex((person) => text.includes(person));
      data[row * dimension + (index >= 0 ? index : dimension - 1)] = 10;
    });
    return tf.tensor2d(data, [texts.length, dimension]);
  }

  encodeKnowledge(texts: readonly string[]): { representations: tf.Tensor2D; prompts: tf.Tensor3D } {
    return tf.tidy(() => {
      const representations = this.vectors(texts);
      const { promptLength, llmWidth } = this.config;
      // A distinct prompt per fact: sin of the key pattern, so stored prompts can be recognised.
      const index = tf.range(0, promptLength * llmWidth).reshape([1, promptLength * llmWidth]);
      const phase = tf.matMul(representations, tf.ones([representations.shape[1], 1])).add(tf.argMax(representations, 1).toFloat().expandDims(1));
      const prompts = tf.sin(tf.add(tf.mul(index, 0.37), phase)).reshape([texts.length, promptLength, llmWidth]) as tf.Tensor3D;
      return { representations, prompts };
    });
  }

  encodeQueries(texts: readonly string[]): tf.Tensor2D {
    return this.vectors(texts);
  }

  sentinelRepresentation(): tf.Tensor2D {
    return tf.ones([1, this.config.representationDim]);
  }

  trainableVariables(): Map<string, tf.Variable> {
    return new Map();
  }

  async fingerprint(): Promise<string> {
    return `scripted:${this.people.join(',')}`;
  }

  async save(): Promise<void> {}

  dispose(): void {
    this.disposed = true;
  }
}
