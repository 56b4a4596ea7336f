import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/index.js';
import type { DecoderModel } from '../../src/transformer/decoder-model.js';
import { useTestBackend } from '../support/backend.js';
import { sharedData, sharedDataPath } from '../support/shared-data.js';
import { Llama2cReference } from './llama2c-reference.js';

/** The code block after "Sampling this model at temperature 0.0" in the model card, without its `$ ./run` line. */
function publishedGreedySample(markdown: string): string {
  const anchor = markdown.indexOf('Sampling this model at temperature 0.0');
  if (anchor < 0) throw new Error('model card: greedy sample paragraph not found');
  const open = markdown.indexOf('```', anchor);
  const start = markdown.indexOf('\n', open) + 1;
  const close = markdown.indexOf('```', start);
  if (open < 0 || close < 0) throw new Error('model card: greedy sample code block not found');
  const lines = markdown.slice(start, close).split('\n');
  if (!lines[0]?.startsWith('$ ./run')) throw new Error(`model card: expected the run.c command line, got ${lines[0]}`);
  return lines.slice(1).join('\n').trim();
}

/** Largest |a − b| over all positions and vocabulary entries. */
function maxAbsDiff(ours: Float32Array, reference: Float64Array[], vocab: number): number {
  let worst = 0;
  reference.forEach((row, pos) => {
    for (let v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(ours[pos * vocab + v]! - row[v]!));
  });
  return worst;
}

const LOGIT_TOLERANCE = 1e-4;

describe.skipIf(!sharedData)('stories260K (llama2.c) against a float64 port of run.c', () => {
  let model: DecoderModel;
  let reference: Llama2cReference;
  let cardText: string;

  beforeAll(async () => {
    await useTestBackend();
    const directory = sharedDataPath('models', 'stories260K');
    model = await loadModel(`${directory}/stories260K.bin`, { tokenizer: `${directory}/tok512.bin` });
    reference = Llama2cReference.fromFile(`${directory}/stories260K.bin`);
    cardText = publishedGreedySample(readFileSync(`${directory}/stories260K.md`, 'utf8'));
  });

  afterAll(() => model?.dispose());

  it('the reference reads the header the model card describes (GQA 8 heads / 4 kv heads)', () => {
    expect(reference.config).toMatchObject({ dim: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512 });
    expect(model.dimensions.vocabSize).toBe(512);
  });

  it('reproduces the published temperature-0 sample token for token', async () => {
    const ours = await model.generate([1], { maxTokens: 256, greedy: true });
    const expected = reference.greedy([1], 256, { stopIds: [1, 2] });
    // The ids themselves (no re-encoding of text): ours equal the float64 run.c port's.
    expect(ours.generatedIds).toEqual(expected.ids);
    // run.c -n 256 (its default) runs 256 forward passes from BOS = 256 new tokens, none of them BOS/EOS.
    expect(ours.generatedIds).toHaveLength(256);
    expect(ours.stopReason).toBe('maxTokens');
    expect(Math.min(...expected.margins)).toBeGreaterThan(1e-3);
    // And their text is the card's.
    expect(ours.text.trim()).toBe(cardText);
    expect(model.tokenizer.decode([1, ...expected.ids]).trim()).toBe(cardText);
  });

  const prompts = [
    'Once upon a time',
    'Lily and Ben went to the park',
    'The little dog was sad because',
    'One day, a big bird',
    'Tom had a red ball. He',
  ];

  it.each(prompts)('greedy 80 tokens from %j equal the reference', async (prompt) => {
    const promptIds = model.tokenizer.encode(prompt);
    expect(promptIds[0]).toBe(1);
    const ours = await model.generate(promptIds, { maxTokens: 80, greedy: true, stopIds: [] });
    const expected = reference.greedy(promptIds, 80);
    expect(expected.ids).toHaveLength(80);
    // A real (not near-tie) decision at every step, so float32 vs float64 cannot legitimately differ.
    expect(Math.min(...expected.margins)).toBeGreaterThan(1e-3);
    expect(ours.generatedIds).toEqual(expected.ids);
  });

  it(`forward logits match the reference at every position of a 40-token sequence (max |Δ| < ${LOGIT_TOLERANCE})`, () => {
    const ids = model.tokenizer.encode(cardText).slice(0, 40);
    expect(ids).toHaveLength(40);
    const expected = reference.logits(ids);
    const logits = tf.tidy(() => model.forward({ ids: tf.tensor2d([ids], [1, ids.length], 'int32') }).logits);
    expect(logits.shape).toEqual([1, 40, 512]);
    const ours = logits.dataSync() as Float32Array;
    logits.dispose();
    const worst = maxAbsDiff(ours, expected, 512);
    expect(worst).toBeLessThan(LOGIT_TOLERANCE);
    // Sanity: the comparison is not vacuous (logits vary by whole units).
    expect(Math.max(...expected[39]!) - Math.min(...expected[39]!)).toBeGreaterThan(1);
  });

  it('forward logits of a right-padded batch match the reference on the real positions', () => {
    const long = model.tokenizer.encode(cardText).slice(0, 30);
    const short = model.tokenizer.encode('Tom had a red ball. He');
    const width = long.length;
    const padded = [...short, ...Array(width - short.length).fill(0)];
    const mask = [...Array(width).fill(1), ...short.map(() => 1), ...Array(width - short.length).fill(0)];
    const logits = tf.tidy(
      () =>
        model.forward({
          ids: tf.tensor2d([...long, ...padded], [2, width], 'int32'),
          attentionMask: tf.tensor2d(mask, [2, width]),
        }).logits,
    );
    const ours = logits.dataSync() as Float32Array;
    logits.dispose();
    expect(maxAbsDiff(ours.subarray(0, width * 512), reference.logits(long), 512)).toBeLessThan(LOGIT_TOLERANCE);
    expect(maxAbsDiff(ours.subarray(width * 512), reference.logits(short), 512)).toBeLessThan(LOGIT_TOLERANCE);
  });
});
