import type * as tf from '@tensorflow/tfjs';

/** Token states of a batch of texts (or of pseudo-token embeddings), with their mask. */
export interface EncodedText {
  /** [batch, seq, width] last-layer hidden states. */
  states: tf.Tensor3D;
  /** [batch, seq] 1 for real positions, 0 for padding. */
  mask: tf.Tensor2D;
  /** [batch, width] the pooler output (tanh(W·h_CLS + b)) where the encoder has one, else the first state. */
  pooled: tf.Tensor2D;
}

/**
 * A bidirectional text encoder (RoBERTa/BERT, or the small default encoder). Differentiable with
 * respect to its variables; RECIPE fine-tunes it together with its heads.
 */
export interface TextEncoder {
  readonly name: string;
  /** Width of the token states. */
  readonly width: number;
  /** Maximum tokens per text (longer texts are truncated, as RECIPE's tokenizer does). */
  readonly maxLength: number;
  encode(texts: readonly string[]): EncodedText;
  /**
   * Runs the encoder stack on embeddings given directly, past the embedding layer (no word or
   * position embeddings): RECIPE's knowledge sentinel. embeddings [batch, seq, width].
   */
  encodeEmbeddings(embeddings: tf.Tensor3D, mask?: tf.Tensor2D): EncodedText;
  /** The encoder's trainable variables, by name. */
  trainableVariables(): Map<string, tf.Variable>;
  dispose(): void;
}
