import * as tf from '@tensorflow/tfjs';
import type { Tokenizer } from '@recipe-kit/core';
import { scaledDotProductAttention, splitHeads } from '../transformer/attention.js';
import { applyHook, DecoderModel, type LayerContext, type LayerOutput } from '../transformer/decoder-model.js';
import { geluNew, layerNorm, linear } from '../transformer/normalization.js';
import { applyRotary } from '../transformer/rotary.js';
import type { WeightStore } from '../transformer/weight-store.js';
import type { GptjConfig } from './gptj-config.js';

const EMBEDDING = 'transformer.wte.weight';
const layerName = (layer: number, part: string): string => `transformer.h.${layer}.${part}`;

/**
 * GPT-J: one LayerNorm feeds attention and MLP in parallel (x + attn(ln(x)) + mlp(ln(x))); rotary on
 * the first rotary_dim dims of each head with interleaved pairs; gelu_new MLP with biases; lm_head with bias.
 */
export class GptjModel extends DecoderModel {
  readonly architecture = 'gptj';

  constructor(
    readonly config: GptjConfig,
    weights: WeightStore,
    tokenizer: Tokenizer,
  ) {
    super(
      {
        dimensions: {
          vocabSize: config.vocabSize,
          hiddenSize: config.hiddenSize,
          numLayers: config.numLayers,
          intermediateSize: config.intermediateSize,
          contextLength: config.maxPositions,
        },
        rotaryDim: config.rotaryDim,
        rotaryLayout: 'interleaved',
        ropeTheta: 10000,
        tieWordEmbeddings: config.tieWordEmbeddings,
        embeddingWeightName: EMBEDDING,
        lmHeadWeightName: 'lm_head.weight',
        vocabulary: config.vocabulary,
      },
      weights,
      tokenizer,
    );
  }

  protected layerForward(x: tf.Tensor3D, context: LayerContext): LayerOutput {
    const { layer } = context;
    const w = (part: string): tf.Tensor => this.weights.get(layerName(layer, part));
    const { numHeads, layerNormEpsilon } = this.config;

    const normed = layerNorm(x, w('ln_1.weight'), w('ln_1.bias'), layerNormEpsilon);
    let query = splitHeads(linear(normed, w('attn.q_proj.weight')), numHeads); // [b, heads, q, headDim]
    let key = splitHeads(linear(normed, w('attn.k_proj.weight')), numHeads);
    let value = splitHeads(linear(normed, w('attn.v_proj.weight')), numHeads);
    query = applyRotary(query, context.rotary);
    key = applyRotary(key, context.rotary);
    if (context.past) {
      key = tf.concat([context.past.key, key], 2);
      value = tf.concat([context.past.value, value], 2);
    }
    const attention = linear(scaledDotProductAttention(query, key, value, context.bias), w('attn.out_proj.weight'));

    const keys = applyHook(
      context.hooks?.mlpKeys,
      layer,
      // Attention and MLP read the same LayerNorm output (parallel block); the hook sees the MLP's copy.
      geluNew(linear(applyHook(context.hooks?.mlpInput, layer, normed), w('mlp.fc_in.weight'), w('mlp.fc_in.bias'))) as tf.Tensor3D,
    );
    const mlpOutput = applyHook(context.hooks?.mlpOutput, layer, linear(keys, w('mlp.fc_out.weight'), w('mlp.fc_out.bias')));
    return { hidden: tf.addN([x, attention, mlpOutput]) as tf.Tensor3D, present: { key, value } };
  }

  protected storedHead(hidden: tf.Tensor3D): tf.Tensor3D {
    const normed = layerNorm(hidden, this.weights.get('transformer.ln_f.weight'), this.weights.get('transformer.ln_f.bias'), this.config.layerNormEpsilon);
    return linear(normed, this.outputProjection, this.weights.get('lm_head.bias'));
  }
}
