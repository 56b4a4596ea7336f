import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ContextOverflowError, tokenizeProbe, type QueryContinuation } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BagOfWordsEncoder } from '../../../src/baselines/lte/bag-of-words-encoder.js';
import { LteEditor } from '../../../src/baselines/lte/lte-editor.js';
import { lteContext, lteTemplateHead } from '../../../src/baselines/lte/lte-template.js';
import { tinyLlama, tinyRequests } from '../../recipe/tiny-recipe-fixtures.js';

beforeAll(useTestBackend);

const requests = tinyRequests();
const encoder = BagOfWordsEncoder.fit(requests.flatMap((r) => [r.prompt, ...r.generality.map((p) => p.prompt)]));

describe('LTE template', () => {
  it('numbers several facts and keeps the question\'s own ids after the head', async () => {
    expect(lteTemplateHead(['a b'])).toBe('Please acknowledge the updated information provided below and respond to the subsequent question.\n\n[Updated Information]:\na b\n\n[Question]:\n');
    expect(lteTemplateHead(['a', 'b'])).toContain('[Updated Information]:\n1. a\n2. b\n\n[Question]:\n');
    const model = await tinyLlama();
    const probe = tokenizeProbe(model.tokenizer, 'Anna Berg lives in', 'Rome');
    const head = model.tokenizer.encode(lteTemplateHead(['Anna Berg lives in Rome']), { addBos: true });
    expect(lteContext(model.tokenizer, ['Anna Berg lives in Rome'], probe.context)).toEqual([...head, ...probe.context.slice(1)]);
    expect(lteContext(model.tokenizer, [], probe.context)).toEqual(probe.context);
    model.dispose();
  });
});

describe('LteEditor', () => {
  const probes = (model: { tokenizer: Parameters<typeof tokenizeProbe>[0] }): QueryContinuation[] =>
    requests.slice(0, 4).flatMap((r) => [tokenizeProbe(model.tokenizer, r.prompt, r.targetNew), tokenizeProbe(model.tokenizer, r.locality[0]!.prompt, r.locality[0]!.target)]);

  it('runs queries bare until an edit, then in front of the top-1 retrieved fact; restore is exact', async () => {
    const model = await tinyLlama(3, true);
    const editor = new LteEditor({ model, encoder });
    const queries = probes(model);
    expect(await editor.scoreContinuations(queries)).toEqual(model.scoreContinuations(queries));
    await editor.edit(requests.slice(0, 2));
    expect(editor.editCount).toBe(2);
    expect(editor.retrieve('The home of Boris Cole is').map((fact) => fact.id)).toEqual(['edit-1']);
    const templated = queries.map((query) => ({ ...query, context: lteContext(model.tokenizer, [editor.retrieve(query.queryText)[0]!.text], query.context) }));
    const scores = await editor.scoreContinuations(queries);
    expect(scores).toEqual(model.scoreContinuations(templated));
    expect(scores).not.toEqual(model.scoreContinuations(queries));
    await editor.restore();
    expect(editor.editCount).toBe(0);
    expect(await editor.scoreContinuations(queries)).toEqual(model.scoreContinuations(queries));
    editor.dispose();
    model.dispose();
  });

  it('round-trips its memory through save/load and leaves no tensor behind', async () => {
    const model = await tinyLlama(3, true);
    const editor = new LteEditor({ model, encoder });
    await editor.edit(requests.slice(0, 5));
    const directory = mkdtempSync(path.join(os.tmpdir(), 'lte-editor-'));
    await editor.save(directory);
    const copy = new LteEditor({ model, encoder });
    await copy.load(directory);
    const queries = probes(model);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await copy.scoreContinuations(queries);
    expect(tf.memory().numTensors).toBe(before);
    expect(copy.editCount).toBe(5);
    expect(await copy.scoreContinuations(queries)).toEqual(await editor.scoreContinuations(queries));
    await expect(new LteEditor({ model, encoder }).load(mkdtempSync(path.join(os.tmpdir(), 'lte-empty-')))).rejects.toThrow();
    editor.dispose();
    copy.dispose();
    model.dispose();
  });

  it('refuses bad requests and overlong templated queries with a fix', async () => {
    const model = await tinyLlama(3, true);
    const editor = new LteEditor({ model, encoder });
    await expect(editor.edit([{ ...requests[0]!, targetNew: ' ' }])).rejects.toThrow(/empty target\.\n.*→/);
    await expect(editor.edit([{ ...requests[0]!, prompt: '' }])).rejects.toThrow(/empty prompt/);
    expect(() => new LteEditor({ model, encoder, topK: 0 })).toThrow(/top-k/);
    // The tiny model has 64 positions; a fact of 60 words cannot fit in front of a question.
    await editor.edit([{ ...requests[0]!, targetNew: Array.from({ length: 60 }, () => 'Rome').join(' ') }]);
    const query = tokenizeProbe(model.tokenizer, requests[0]!.prompt, 'Rome');
    expect(() => editor.scoreContinuations([query])).toThrow(ContextOverflowError);
    expect(() => editor.scoreContinuations([query])).toThrow(/needs \d+ positions; the model has 64/);
    editor.dispose();
    model.dispose();
  });
});
