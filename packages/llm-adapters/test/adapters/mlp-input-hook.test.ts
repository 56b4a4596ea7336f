import * as tf from '@tensorflow/tfjs';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../support/backend.js';
import { tinyArchitectures, tinyModel } from '../support/tiny-models.js';

beforeAll(useTestBackend);

/** The MLP keys recomputed by hand from the MLP input (float64 in JavaScript), for one position. */
function referenceKeys(model: DecoderModel, layer: number, input: Float32Array): number[] {
  const column = (name: string, j: number, out: number): number => {
    const weight = model.getWeight(name).dataSync(); // [in, out]
    let sum = 0;
    input.forEach((x, i) => (sum += x * (weight[i * out + j] as number)));
    return sum;
  };
  const f = model.dimensions.intermediateSize;
  const keys: number[] = [];
  for (let j = 0; j < f; j++) {
    if (model.architecture === 'llama') {
      const gate = column(`model.layers.${layer}.mlp.gate_proj.weight`, j, f);
      keys.push((gate / (1 + Math.exp(-gate))) * column(`model.layers.${layer}.mlp.up_proj.weight`, j, f));
    } else {
      const x = column(`transformer.h.${layer}.mlp.fc_in.weight`, j, f) + (model.getWeight(`transformer.h.${layer}.mlp.fc_in.bias`).dataSync()[j] as number);
      keys.push(0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    }
  }
  return keys;
}

describe.each(tinyArchitectures)('$name MLP-input hook', (architecture) => {
  let model: DecoderModel;
  beforeAll(async () => {
    model = await tinyModel(architecture, 5);
  });
  afterAll(() => model.dispose());
  const ids = (): tf.Tensor2D => tf.tensor2d([[1, 20, 300, 4000]], undefined, 'int32');

  it('sees the hidden state the MLP reads: the keys follow from it through the MLP weights', () => {
    const { hiddenSize, intermediateSize } = model.dimensions;
    let input: Float32Array = new Float32Array();
    let keys: Float32Array = new Float32Array();
    tf.tidy(() => {
      model.forward({
        ids: ids(),
        hooks: {
          mlpInput: (layer, x) => void (layer === 1 && (input = x.dataSync() as Float32Array)),
          mlpKeys: (layer, k) => void (layer === 1 && (keys = k.dataSync() as Float32Array)),
        },
      });
    });
    expect(input).toHaveLength(4 * hiddenSize);
    const position = 2;
    const expected = referenceKeys(model, 1, input.slice(position * hiddenSize, (position + 1) * hiddenSize));
    const actual = [...keys.slice(position * intermediateSize, (position + 1) * intermediateSize)];
    actual.forEach((value, j) => expect(value).toBeCloseTo(expected[j] as number, 4));
  });

  it('replacing the MLP input changes the output; scoreContinuations runs the same hooks', () => {
    const hooks = { mlpInput: (layer: number, x: tf.Tensor3D) => (layer === 0 ? (tf.mul(x, 0) as tf.Tensor3D) : undefined) };
    const request = { context: [1, 20, 300], continuation: [4000, 5] };
    const plain = model.scoreContinuations([request])[0];
    const hooked = model.scoreContinuations([request], { hooks })[0];
    expect(hooked?.logProbs[0]).not.toBeCloseTo(plain?.logProbs[0] as number, 3);
    // The same hook through forward gives the same log-probability of the first continuation token.
    const expected = tf.tidy(() => {
      const logits = model.forward({ ids: tf.tensor2d([[1, 20, 300]], undefined, 'int32'), hooks }).logits;
      return tf.logSoftmax(logits.slice([0, 2, 0], [1, 1, -1]).reshape([-1])).dataSync()[4000] as number;
    });
    expect(hooked?.logProbs[0]).toBeCloseTo(expected, 4);
  });
});
