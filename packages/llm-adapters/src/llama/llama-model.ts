import * as tf from '@tensorflow/tfjs';
import type { Tokenizer } from '@recipe-kit/core';
import { scaledDotProductAttention, splitHeads } from '../transformer/attention.js';
import { applyHook, DecoderModel, type LayerContext, type LayerOutput } from '../transformer/decoder-model.js';
import { linear, rmsNorm, silu } from '../transformer/normalization.js';
import { applyRotary } from '../transformer/rotary.js';
import type { WeightStore } from '../transformer/weight-store.js';
import type { LlamaConfig } from './llama-config.js';

const EMBEDDING = 'model.embed_tokens.weight';
const layerName = (layer: number, part: string): string => `model.layers.${layer}.${part}`;

/** LLaMA-2: pre-RMSNorm blocks, rotary (rotate-half layout), grouped-query attention, SwiGLU MLP. */
export class LlamaModel extends DecoderModel {
  readonly architecture = 'llama';

  constructor(
    readonly config: LlamaConfig,
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
        rotaryDim: config.headDim,
        rotaryLayout: 'half',
        ropeTheta: config.ropeTheta,
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
    const { numHeads, numKeyValueHeads, rmsNormEpsilon } = this.config;

    const normed = rmsNorm(x, w('input_layernorm.weight'), rmsNormEpsilon);
    let query = splitHeads(linear(normed, w('self_attn.q_proj.weight')), numHeads); // [b, heads, q, headDim]
    let key = splitHeads(linear(normed, w('self_attn.k_proj.weight')), numKeyValueHeads); // [b, kvHeads, q, headDim]
    let value = splitHeads(linear(normed, w('self_attn.v_proj.weight')), numKeyValueHeads);
    query = applyRotary(query, context.rotary);
    key = applyRotary(key, context.rotary);
    if (context.past) {
      key = tf.concat([context.past.key, key], 2);
      value = tf.concat([context.past.value, value], 2);
    }
    const attended = scaledDotProductAttention(query, key, value, context.bias, numHeads / numKeyValueHeads);
    const afterAttention = tf.add(x, linear(attended, w('self_attn.o_proj.weight'))) as tf.Tensor3D;

    const mlpInput = applyHook(context.hooks?.mlpInput, layer, rmsNorm(afterAttention, w('post_attention_layernorm.weight'), rmsNormEpsilon));
    const gate = silu(linear(mlpInput, w('mlp.gate_proj.weight')));
    const keys = applyHook(context.hooks?.mlpKeys, layer, tf.mul(gate, linear(mlpInput, w('mlp.up_proj.weight'))) as tf.Tensor3D);
    const mlpOutput = applyHook(context.hooks?.mlpOutput, layer, linear(keys, w('mlp.down_proj.weight')));
    return { hidden: tf.add(afterAttention, mlpOutput) as tf.Tensor3D, present: { key, value } };
  }

  protected storedHead(hidden: tf.Tensor3D): tf.Tensor3D {
    return linear(rmsNorm(hidden, this.weights.get('model.norm.weight'), this.config.rmsNormEpsilon), this.outputProjection);
  }
}
