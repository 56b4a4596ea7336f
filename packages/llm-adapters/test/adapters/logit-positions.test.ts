import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { createRandomModel } from '@recipe-kit/llm-adapters';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyArchitectures } from '../support/tiny-models.js';

beforeAll(useTestBackend);

describe.each(tinyArchitectures)('$name forward with logitPositions', (architecture) => {
  it('returns the full forward pass\'s logits at exactly the requested positions, with a prefix and padding', async () => {
    const model = await createRandomModel({ config: architecture.config, tokenizer: architecture.tokenizer, seed: 3, initStd: 0.2 });
    const ids = tf.tensor2d([[1, 450, 4799, 13], [1, 100, 0, 0]], undefined, 'int32');
    const attentionMask = tf.tensor2d([[1, 1, 1, 1], [1, 1, 0, 0]]);
    const prefix = tf.randomNormal([2, 2, model.dimensions.hiddenSize], 0, 1, 'float32', 7) as tf.Tensor3D;
    const wanted = [5, 0, 3, 1]; // row 1 position 1, row 0 position 0, row 0 position 3, row 0 position 1
    const positions = tf.tensor1d(wanted, 'int32');
    const full = model.forward({ ids, attentionMask, prefix }).logits; // [2, 4, V]
    const picked = model.forward({ ids, attentionMask, prefix, logitPositions: wanted }).logits; // [1, 4, V]
    expect(picked.shape).toEqual([1, wanted.length, full.shape[2]]);
    const expected = tf.gather(full.reshape([8, full.shape[2] as number]), positions);
    const difference = tf.max(tf.abs(tf.sub(picked.squeeze([0]), expected))).dataSync()[0];
    expect(difference).toBeLessThan(1e-5);

    // Gradients flow through the selection to the prefix, and equal the full pass's at those positions.
    const gradientOf = (select: boolean): Float32Array =>
      tf.tidy(() =>
        tf.grad((p: tf.Tensor) => {
          const logits = select
            ? model.forward({ ids, attentionMask, prefix: p as tf.Tensor3D, logitPositions: wanted }).logits.squeeze([0])
            : tf.gather(model.forward({ ids, attentionMask, prefix: p as tf.Tensor3D }).logits.reshape([8, full.shape[2] as number]), positions);
          return tf.sum(tf.mul(logits, tf.linspace(0.1, 1, full.shape[2] as number)));
        })(prefix).dataSync() as Float32Array,
      );
    const viaSelection = gradientOf(true);
    const viaFull = gradientOf(false);
    const largest = Math.max(...viaFull.map(Math.abs));
    expect(largest).toBeGreaterThan(0);
    viaSelection.forEach((g, i) => expect(Math.abs(g - (viaFull[i] as number))).toBeLessThan(1e-4 * largest));
    tf.dispose([ids, attentionMask, prefix, positions, full, picked, expected]);
    model.dispose();
  });

  it('refuses positions outside the token grid and non-integer indices, naming the fix', async () => {
    const model = await createRandomModel({ config: architecture.config, tokenizer: architecture.tokenizer, seed: 3 });
    const ids = tf.tensor2d([[1, 450, 4799]], undefined, 'int32');
    const outside = [3];
    expect(() => model.forward({ ids, logitPositions: outside })).toThrow(InvalidInputError);
    expect(() => model.forward({ ids, logitPositions: outside })).toThrow(/outside the 1 × 3 token positions/);
    const fractional = [0.5];
    expect(() => model.forward({ ids, logitPositions: fractional })).toThrow(/int32/);
    tf.dispose([ids]);
    model.dispose();
  });
});
