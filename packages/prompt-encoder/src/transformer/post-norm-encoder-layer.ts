import * as tf from '@tensorflow/tfjs';
import { activate, layerNorm, linear, multiHeadAttention, type HiddenActivation } from './layer-operations.js';

/** What one BERT-style layer needs besides its weights. */
export interface EncoderLayerSettings {
  numHeads: number;
  layerNormEpsilon: number;
  activation: HiddenActivation;
}

/**
 * One post-LayerNorm transformer encoder layer, BERT/RoBERTa layout and Hugging Face weight names
 * relative to `prefix` (e.g. `encoder.layer.3.`). Linear weights are [in, out].
 *   a = LN(x + O(Attn(Qx, Kx, Vx)));   y = LN(a + W_out · act(W_in · a))
 * x [batch, seq, width], bias [batch, 1, 1, seq] → [batch, seq, width]
 */
export function postNormEncoderLayer(
  x: tf.Tensor3D,
  bias: tf.Tensor4D,
  weight: (name: string) => tf.Tensor,
  prefix: string,
  settings: EncoderLayerSettings,
): tf.Tensor3D {
  return tf.tidy(() => {
    const w = (name: string): tf.Tensor => weight(prefix + name);
    const query = linear(x, w('attention.self.query.weight'), w('attention.self.query.bias'));
    const key = linear(x, w('attention.self.key.weight'), w('attention.self.key.bias'));
    const value = linear(x, w('attention.self.value.weight'), w('attention.self.value.bias'));
    const attended = multiHeadAttention(query, key, value, bias, settings.numHeads);
    const attentionOutput = linear(attended, w('attention.output.dense.weight'), w('attention.output.dense.bias'));
    const afterAttention = layerNorm(
      tf.add(x, attentionOutput) as tf.Tensor3D,
      w('attention.output.LayerNorm.weight'),
      w('attention.output.LayerNorm.bias'),
      settings.layerNormEpsilon,
    );
    const intermediate = activate(linear(afterAttention, w('intermediate.dense.weight'), w('intermediate.dense.bias')), settings.activation);
    const output = linear(intermediate, w('output.dense.weight'), w('output.dense.bias'));
    return layerNorm(tf.add(afterAttention, output) as tf.Tensor3D, w('output.LayerNorm.weight'), w('output.LayerNorm.bias'), settings.layerNormEpsilon);
  });
}

/** Names (relative to the layer prefix) and shapes of one layer's weights; linear weights [in, out]. */
export function encoderLayerWeightShapes(width: number, intermediateSize: number): [string, number[]][] {
  return [
    ['attention.self.query.weight', [width, width]],
    ['attention.self.query.bias', [width]],
    ['attention.self.key.weight', [width, width]],
    ['attention.self.key.bias', [width]],
    ['attention.self.value.weight', [width, width]],
    ['attention.self.value.bias', [width]],
    ['attention.output.dense.weight', [width, width]],
    ['attention.output.dense.bias', [width]],
    ['attention.output.LayerNorm.weight', [width]],
    ['attention.output.LayerNorm.bias', [width]],
    ['intermediate.dense.weight', [width, intermediateSize]],
    ['intermediate.dense.bias', [intermediateSize]],
    ['output.dense.weight', [intermediateSize, width]],
    ['output.dense.bias', [width]],
    ['output.LayerNorm.weight', [width]],
    ['output.LayerNorm.bias', [width]],
  ];
}
