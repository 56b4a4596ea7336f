import * as tf from '@tensorflow/tfjs';
import type { ContinuationScore, EditRequest, Editor, QueryContinuation } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { createRandomModel } from '@recipe-kit/llm-adapters';
import { describe, expect, it } from 'vitest';
import { chunkRequests, runEditProtocol } from '../../src/protocols/edit-protocol.js';
import { ScriptedModel } from '../support/scripted-model.js';

function makeRequests(count: number): EditRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `c${i}`,
    prompt: `subject${i} lives in`,
    subject: `subject${i}`,
    targetNew: `city${i}`,
    generality: [{ prompt: `subject${i} resides in`, target: `city${i}`, type: 'rephrase' }],
    locality: [{ prompt: `other${i} lives in`, target: `town${i}`, type: 'neighborhood' }],
  }));
}

/** Records the order of everything the protocol does; "knows" an edit once it is applied. */
class SpyEditor implements Editor {
  readonly name = 'spy';
  readonly events: string[] = [];
  private applied = new Set<string>();
  private readonly scripted = new ScriptedModel();
  readonly model = this.scripted.model;

  get editCount(): number {
    return this.applied.size;
  }
  async edit(requests: readonly EditRequest[]): Promise<void> {
    this.events.push(`edit:${requests.map((r) => r.id).join('+')}`);
    for (const request of requests) this.applied.add(request.prompt);
  }
  async restore(): Promise<void> {
    this.events.push('restore');
    this.applied.clear();
  }
  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    this.events.push(`score:${requests.length}@${this.applied.size}`);
    const wrong = this.scripted.id('wrong');
    return this.scripted.scoreContinuations(requests).map((score, i) => {
      const text = requests[i]?.queryText ?? '';
      // Edit prompts are right only once edited; everything else is always "right".
      const known = !text.includes(' lives in') || text.startsWith('other') || this.applied.has(text);
      return known ? score : { ...score, argmaxIds: score.argmaxIds.map(() => wrong) };
    });
  }
  async save(): Promise<void> {}
  async load(): Promise<void> {}
  dispose(): void {}
}

describe('edit protocols', () => {
  it('chunks a seeded shuffle into chunks of T and drops the incomplete last chunk', () => {
    const requests = makeRequests(11);
    const chunks = chunkRequests(requests, 4, 0);
    expect(chunks.map((c) => c.length)).toEqual([4, 4]);
    expect(chunkRequests(requests, 4, 0)).toEqual(chunks);
    expect(chunkRequests(requests, 4, 1).flat().map((r) => r.id)).not.toEqual(chunks.flat().map((r) => r.id));
    expect(new Set(chunks.flat().map((r) => r.id)).size).toBe(8);
    expect(() => chunkRequests(requests, 12, 0)).toThrow(/only 11 cases/);
  });

  it('lifelong: restore, pre-edit reference, T edits one by one, then score all T on the final model', async () => {
    const editor = new SpyEditor();
    const result = await runEditProtocol(editor, makeRequests(6), { protocol: 'lifelong', edits: 3, seed: 0 });
    expect(result.chunks).toBe(2);
    const firstChunk = editor.events.slice(0, editor.events.indexOf('restore', 1));
    expect(firstChunk[0]).toBe('restore');
    expect(firstChunk[1]).toBe('score:3@0'); // locality reference, before any edit
    expect(firstChunk.slice(2, 5).every((e) => /^edit:c\d$/.test(e))).toBe(true);
    expect(firstChunk[5]).toBe('score:9@3'); // 3 × (reliability + generality + locality), all edits applied
    expect(editor.events.at(-1)).toBe('restore');
    expect(result.cases.map((c) => c.reliability)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(result.cases.every((c) => c.locality === 1 && c.editSeconds >= 0)).toBe(true);
  });

  it('batch applies a chunk in one call; single edits, scores and restores case by case', async () => {
    const batch = new SpyEditor();
    await runEditProtocol(batch, makeRequests(4), { protocol: 'batch', edits: 2, seed: 0 });
    expect(batch.events.filter((e) => e.startsWith('edit'))).toHaveLength(2);
    expect(batch.events.filter((e) => e.startsWith('edit')).every((e) => e.includes('+'))).toBe(true);
    const single = new SpyEditor();
    const result = await runEditProtocol(single, makeRequests(3), { protocol: 'single', edits: 50, seed: 0 });
    expect(result.chunks).toBe(3);
    expect(single.events.filter((e) => e === 'restore')).toHaveLength(4);
  });
});

describe('restore after the protocol', () => {
  it('leaves a real model bit-identical to before (an editor that perturbs weights and undoes them)', async () => {
    await useTestBackend();
    const model = await createRandomModel({
      config: { model_type: 'llama', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 32000, max_position_embeddings: 64 },
      tokenizer: 'llama2',
      seed: 3,
      initStd: 0.2,
    });
    const name = 'model.layers.0.mlp.down_proj.weight';
    const original = model.getWeight(name).clone();
    const editor: Editor = {
      name: 'perturb',
      model,
      editCount: 0,
      async edit() {
        model.setWeight(name, tf.tidy(() => tf.add(model.getWeight(name), tf.randomNormal(original.shape, 0, 1))));
      },
      async restore() {
        model.setWeight(name, original.clone());
      },
      scoreContinuations: (requests) => model.scoreContinuations(requests),
      async save() {},
      async load() {},
      dispose() {},
    };
    const ids = tf.tensor2d([[1, 450, 4799]], undefined, 'int32');
    const before = model.forward({ ids }).logits.dataSync().slice();
    const requests = makeRequests(4).map((r) => ({ ...r, prompt: 'The mother tongue of X is', subject: 'X' }));
    await runEditProtocol(editor, requests, { protocol: 'lifelong', edits: 2, seed: 0 });
    const after = model.forward({ ids }).logits.dataSync();
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    model.dispose();
  });
});
