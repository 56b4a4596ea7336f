import * as tf from '@tensorflow/tfjs';
import { tokenizeProbe, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchOutput, preActivations, type NeuronWeights } from '../../../src/baselines/t-patcher/patch-neurons.js';
import { T_PATCHER_FACTORY } from '../../../src/baselines/t-patcher/t-patcher-editor-factory.js';
import { TPatcherEditor } from '../../../src/baselines/t-patcher/t-patcher-editor.js';
import { describeEditorConformance, loadMicroModel, MICRO_MODELS, microEdits } from '../weight-edits/editor-conformance.js';

beforeAll(useTestBackend);

// Fixed memory texts keep the suite fast (the default samples 20 texts from the model: the CLI runs cover it).
const MEMORY_TEXTS = ['The weather is fine today', 'You can read the book'];
describeEditorConformance('t-patcher', async (model) => {
  const factoryDefaults = (await T_PATCHER_FACTORY.create(model, {})) as TPatcherEditor;
  factoryDefaults.dispose();
  return new TPatcherEditor(model, { ...factoryDefaults.options, memoryTexts: MEMORY_TEXTS });
});

describe('patch neurons against a float64 reference', () => {
  // hidden 2, two neurons, one position.
  const x = [0.5, -1.5];
  const up = [[0.3, -0.2], [0.7, 0.4]]; // [hidden, n]
  const gate = [[-0.5, 0.9], [0.1, -0.3]];
  const upBias = [0.1, -0.2];
  const gateBias = [0.05, 0.3];
  const out = [[1, 2], [-0.5, 0.25]]; // [n, hidden]
  const z = (w: number[][], b: number[], j: number): number => (x[0] as number) * (w[0]?.[j] as number) + (x[1] as number) * (w[1]?.[j] as number) + (b[j] as number);
  const weights = (gated: boolean): NeuronWeights => {
    const w: NeuronWeights = { up: tf.tensor2d(up), upBias: tf.tensor1d(upBias), out: tf.tensor2d(out) };
    if (gated) {
      w.gate = tf.tensor2d(gate);
      w.gateBias = tf.tensor1d(gateBias);
    }
    return w;
  };
  const expected = (activation: (j: number) => number): number[] =>
    [0, 1].map((k) => activation(0) * (out[0]?.[k] as number) + activation(1) * (out[1]?.[k] as number));

  it('GPT-J form: gelu_new(x·K + b)·V', () => {
    const gelu = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    const actual = tf.tidy(() => [...patchOutput(tf.tensor3d([[x]]), weights(false)).dataSync()]);
    expected((j) => gelu(z(up, upBias, j))).forEach((value, k) => expect(actual[k]).toBeCloseTo(value, 5));
  });

  it('LLaMA form: silu(x·G + g) ⊙ (x·K + b)·V, with the pre-activations the losses push', () => {
    const silu = (v: number): number => v / (1 + Math.exp(-v));
    const actual = tf.tidy(() => [...patchOutput(tf.tensor3d([[x]]), weights(true)).dataSync()]);
    expected((j) => silu(z(gate, gateBias, j)) * z(up, upBias, j)).forEach((value, k) => expect(actual[k]).toBeCloseTo(value, 5));
    const pre = tf.tidy(() => {
      const result = preActivations(tf.tensor2d([x]), weights(true));
      return [[...result.up.dataSync()], [...(result.gate?.dataSync() ?? [])]];
    });
    expect(pre[0]?.[1]).toBeCloseTo(z(up, upBias, 1), 6);
    expect(pre[1]?.[0]).toBeCloseTo(z(gate, gateBias, 0), 6);
  });
});

describe('T-Patcher on a micro model', () => {
  let model: CausalLanguageModel;
  let requests: EditRequest[];
  beforeAll(async () => {
    const micro = MICRO_MODELS[0];
    model = await loadMicroModel(micro);
    requests = microEdits(micro, model, 2);
  });
  afterAll(() => model.dispose());

  it('refuses an unknown activation-positions option', async () => {
    await expect(T_PATCHER_FACTORY.create(model, { options: { 'activation-positions': 'some' } })).rejects.toThrow(/activation-positions=some is unknown/);
  });

  it('adds one neuron per edit, which fires on its edit and not on the memory texts', async () => {
    const editor = new TPatcherEditor(model, { layer: 3, steps: 75, learningRate: 1e-2, activationWeight: 0.1, memoryWeight: 0.1, memoryTexts: MEMORY_TEXTS });
    await editor.edit(requests);
    expect(editor.neuronCount).toBe(2);
    // Scoring a memory text through the editor changes it little; the edit prompt now gives the target.
    const memory = tokenizeProbe(model.tokenizer, 'The weather is fine', 'today');
    const [plain] = model.scoreContinuations([memory]);
    const [patched] = editor.scoreContinuations([memory]);
    expect(Math.abs((patched?.logProbs[0] as number) - (plain?.logProbs[0] as number))).toBeLessThan(0.5);
    const query = tokenizeProbe(model.tokenizer, (requests[1] as EditRequest).prompt, (requests[1] as EditRequest).targetNew);
    expect(editor.scoreContinuations([query])[0]?.argmaxIds).toEqual(query.continuation);
    await editor.restore();
    expect(editor.neuronCount).toBe(0);
    editor.dispose();
  });
});
