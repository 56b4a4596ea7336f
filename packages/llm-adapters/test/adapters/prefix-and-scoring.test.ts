import * as tf from '@tensorflow/tfjs';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../support/backend.js';
import { tinyArchitectures, tinyModel } from '../support/tiny-models.js';

beforeAll(useTestBackend);

function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

describe.each(tinyArchitectures)('$name prefix forward', (architecture) => {
  let model: DecoderModel;
  let hidden: number;
  beforeAll(async () => {
    model = await tinyModel(architecture, 3);
    hidden = model.dimensions.hiddenSize;
  });
  afterAll(() => model.dispose());
  const ids = (): tf.Tensor2D => tf.tensor2d([[3, 1000, 25, 7, 12], [8, 9, 10, 11, 12]], undefined, 'int32');

  it('a zero-length prefix gives exactly the output of no prefix', () => {
    tf.tidy(() => {
      const plain = model.forward({ ids: ids() }).logits.dataSync();
      const withEmpty = model.forward({ ids: ids(), prefix: tf.zeros([2, 0, hidden]) }).logits.dataSync();
      expect(Buffer.from(withEmpty.buffer).equals(Buffer.from(plain.buffer))).toBe(true);
    });
  });

  it('a prefix equals prepending those vectors as input embeddings (its logits dropped)', () => {
    tf.tidy(() => {
      const prefix = tf.randomNormal([2, 3, hidden], 0, 1, 'float32', 11) as tf.Tensor3D;
      const viaPrefix = model.forward({ ids: ids(), prefix }).logits;
      const viaEmbeddings = model.forward({ inputEmbeddings: tf.concat([prefix, model.embed(ids())], 1) }).logits;
      expect(viaPrefix.shape).toEqual([2, 5, model.dimensions.vocabSize]);
      expect(maxAbsDifference(viaPrefix, viaEmbeddings.slice([0, 3, 0], [2, 5, -1]))).toBeLessThan(1e-5);
    });
  });

  it('rows with different prefix lengths match each row run alone', () => {
    tf.tidy(() => {
      const prefix = tf.randomNormal([3, 3, hidden], 0, 1, 'float32', 12) as tf.Tensor3D;
      const batchIds = tf.tensor2d([[3, 4, 5, 6], [7, 8, 9, 0], [10, 11, 12, 13]], undefined, 'int32');
      const mask = tf.tensor2d([[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1]]);
      const lengths = [3, 1, 0];
      const batched = model.forward({ ids: batchIds, attentionMask: mask, prefix, prefixLengths: lengths }).logits;
      lengths.forEach((length, row) => {
        const realTokens = row === 1 ? 3 : 4;
        const rowIds = batchIds.slice([row, 0], [1, realTokens]);
        const rowPrefix = prefix.slice([row, 0, 0], [1, length, hidden]);
        const alone = model.forward({ ids: rowIds, prefix: rowPrefix }).logits;
        const fromBatch = batched.slice([row, 0, 0], [1, realTokens, -1]);
        expect(maxAbsDifference(fromBatch, alone)).toBeLessThan(1e-4);
      });
      expect(maxAbsDifference(batched.slice([0, 0, 0], [1, 4, -1]), batched.slice([2, 0, 0], [1, 4, -1]))).toBeGreaterThan(1e-3);
    });
  });

  it('gradients with respect to the prefix pass a finite-difference check', () => {
    const prefix = tf.randomNormal([1, 2, hidden], 0, 1, 'float32', 13) as tf.Tensor3D;
    const tokenIds = tf.tensor2d([[15, 16, 17, 18]], undefined, 'int32');
    const targets = tf.oneHot(tf.tensor1d([16, 17, 18, 19], 'int32'), model.dimensions.vocabSize);
    const loss = (p: tf.Tensor3D): tf.Scalar =>
      tf.tidy(() => {
        const logits = model.forward({ ids: tokenIds, prefix: p }).logits.reshape([4, model.dimensions.vocabSize]);
        return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), targets))) as tf.Scalar;
      });
    const gradient = tf.grad((p: tf.Tensor) => loss(p as tf.Tensor3D))(prefix);
    const gradientValues = gradient.dataSync();
    const epsilon = 1e-2;
    // Directional derivatives along random directions, and along single coordinates.
    for (let trial = 0; trial < 4; trial++) {
      const direction = tf.randomNormal(prefix.shape, 0, 1, 'float32', 100 + trial);
      const analytic = tf.tidy(() => tf.sum(tf.mul(gradient, direction)).dataSync()[0] as number);
      const numeric = tf.tidy(() => {
        const plus = loss(tf.add(prefix, tf.mul(direction, epsilon)) as tf.Tensor3D).dataSync()[0] as number;
        const minus = loss(tf.sub(prefix, tf.mul(direction, epsilon)) as tf.Tensor3D).dataSync()[0] as number;
        return (plus - minus) / (2 * epsilon);
      });
      direction.dispose();
      expect(Math.abs(numeric - analytic)).toBeLessThan(2e-2 * Math.max(1, Math.abs(analytic)));
    }
    for (const coordinate of [0, 5, hidden + 3]) {
      const numeric = tf.tidy(() => {
        const bump = tf.oneHot(tf.tensor1d([coordinate], 'int32'), 2 * hidden).reshape(prefix.shape).mul(epsilon);
        const plus = loss(tf.add(prefix, bump) as tf.Tensor3D).dataSync()[0] as number;
        const minus = loss(tf.sub(prefix, bump) as tf.Tensor3D).dataSync()[0] as number;
        return (plus - minus) / (2 * epsilon);
      });
      const analytic = gradientValues[coordinate] as number;
      expect(Math.abs(numeric - analytic)).toBeLessThan(2e-2 * Math.max(0.1, Math.abs(analytic)));
    }
    expect(Math.max(...Array.from(gradientValues, Math.abs))).toBeGreaterThan(1e-3);
    tf.dispose([prefix, tokenIds, targets, gradient]);
  });

  it('scores continuations teacher-forced, consistent with forward logits, with or without prefix', () => {
    const requests = [
      { context: [5, 6, 7], continuation: [8, 9] },
      { context: [100], continuation: [200, 300, 400] },
    ];
    const scores = model.scoreContinuations(requests);
    tf.tidy(() => {
      const logits = model.forward({ ids: tf.tensor2d([[5, 6, 7, 8]], undefined, 'int32') }).logits;
      const logProbabilities = tf.logSoftmax(logits).dataSync();
      const vocab = model.dimensions.vocabSize;
      expect(scores[0]?.logProbs[0]).toBeCloseTo(logProbabilities[2 * vocab + 8] as number, 4);
      expect(scores[0]?.logProbs[1]).toBeCloseTo(logProbabilities[3 * vocab + 9] as number, 4);
      const argmaxAt2 = tf.argMax(logits.slice([0, 2, 0], [1, 1, -1]).reshape([-1])).dataSync()[0];
      expect(scores[0]?.argmaxIds[0]).toBe(argmaxAt2);
    });
    expect(scores[1]?.logProbs).toHaveLength(3);
    for (const score of scores) for (const value of score.logProbs) expect(value).toBeLessThan(0);
    const prefix = tf.randomNormal([2, 2, hidden], 0, 1, 'float32', 9) as tf.Tensor3D;
    const withPrefix = model.scoreContinuations(requests, { prefix });
    expect(withPrefix[0]?.logProbs).not.toEqual(scores[0]?.logProbs);
    const emptyRows = model.scoreContinuations(requests, { prefix, prefixLengths: [0, 0] });
    expect(emptyRows[1]?.logProbs[2]).toBeCloseTo(scores[1]?.logProbs[2] as number, 4);
    prefix.dispose();
    expect(() => model.scoreContinuations([{ context: [], continuation: [1] }])).toThrow(/empty context/);
  });
});

describe.each(tinyArchitectures)('$name hooks and hidden states', (architecture) => {
  let model: DecoderModel;
  beforeAll(async () => {
    model = await tinyModel(architecture, 4);
  });
  afterAll(() => model.dispose());

  it('returns numLayers + 1 hidden states and exposes MLP keys and outputs per layer', () => {
    tf.tidy(() => {
      const seen: string[] = [];
      const result = model.forward({
        ids: tf.tensor2d([[1, 2, 3]], undefined, 'int32'),
        outputHiddenStates: true,
        hooks: {
          mlpKeys: (layer, keys) => void seen.push(`keys${layer}:${keys.shape}`),
          mlpOutput: (layer, output) => void seen.push(`out${layer}:${output.shape}`),
        },
      });
      const { hiddenSize, intermediateSize, numLayers } = model.dimensions;
      expect(result.hiddenStates).toHaveLength(numLayers + 1);
      expect(seen).toEqual([
        `keys0:1,3,${intermediateSize}`, `out0:1,3,${hiddenSize}`,
        `keys1:1,3,${intermediateSize}`, `out1:1,3,${hiddenSize}`,
      ]);
      const last = result.hiddenStates?.[numLayers];
      expect(last?.shape).toEqual([1, 3, hiddenSize]);
    });
  });

  it('an MLP-output hook that adds a vector changes the logits; one that returns nothing does not', () => {
    tf.tidy(() => {
      // Not a constant shift: LayerNorm (GPT-J) would remove that.
      const delta = tf.randomNormal([model.dimensions.hiddenSize], 0, 1, 'float32', 21);
      const ids = tf.tensor2d([[1, 2, 3]], undefined, 'int32');
      const plain = model.forward({ ids }).logits;
      const untouched = model.forward({ ids, hooks: { mlpOutput: () => undefined } }).logits;
      expect(maxAbsDifference(plain, untouched)).toBe(0);
      const shifted = model.forward({
        ids,
        hooks: { mlpOutput: (layer, output) => (layer === 0 ? (tf.add(output, delta) as tf.Tensor3D) : undefined) },
      }).logits;
      expect(maxAbsDifference(plain, shifted)).toBeGreaterThan(1e-3);
      expect(() => model.forward({ ids, hooks: { residual: () => tf.zeros([1, 1, 1]) as tf.Tensor3D } })).toThrow(/returned shape/);
    });
  });
});

describe.each(tinyArchitectures)('$name candidate scoring', (architecture) => {
  it('scores next-token candidates after the context, equal to the continuation log-probabilities', async () => {
    const model = await tinyModel(architecture, 5);
    const [withCandidates] = model.scoreContinuations([{ context: [4, 5, 6], continuation: [], candidateIds: [7, 8, 9] }]);
    const single = model.scoreContinuations([7, 8, 9].map((id) => ({ context: [4, 5, 6], continuation: [id] })));
    expect(withCandidates?.logProbs).toEqual([]);
    withCandidates?.candidateLogProbs?.forEach((value, i) => expect(value).toBeCloseTo(single[i]?.logProbs[0] as number, 5));
    expect(withCandidates?.candidateLogProbs).toHaveLength(3);
    model.dispose();
  });
});
