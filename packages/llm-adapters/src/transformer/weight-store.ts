import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@recipe-kit/core';

/**
 * The model's weights by Hugging Face name. Linear weights are kept in matmul layout [in, out]
 * (x · W), i.e. transposed from PyTorch's [out, in]: tfjs-wasm is 10× slower with transposed
 * operands, and an adapter should pay that once at load time, not on every token.
 */
export class WeightStore {
  private readonly tensors = new Map<string, tf.Tensor>();
  /** Called after a weight is replaced, e.g. to refresh a derived copy (tied lm_head). */
  onReplace: ((name: string) => void) | undefined;

  add(name: string, tensor: tf.Tensor): void {
    this.tensors.set(name, tensor);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  get(name: string): tf.Tensor {
    const tensor = this.tensors.get(name);
    if (!tensor) {
      throw new InvalidInputError(
        `The model has no weight named "${name}".`,
        `Use one of weightNames(), e.g. ${this.names().slice(0, 3).join(', ')}.`,
      );
    }
    return tensor;
  }

  set(name: string, value: tf.Tensor, options: { keepPrevious?: boolean } = {}): void {
    const previous = this.get(name);
    if (previous.shape.join() !== value.shape.join()) {
      throw new InvalidInputError(
        `setWeight("${name}") got shape [${value.shape}], but the weight is [${previous.shape}] (linear weights are [in, out]).`,
        'Give a tensor of the same shape as getWeight(name).',
      );
    }
    this.tensors.set(name, value);
    if (!options.keepPrevious && previous !== value) previous.dispose();
    this.onReplace?.(name);
  }

  /** Total number of scalars held. */
  parameterCount(): number {
    let total = 0;
    for (const tensor of this.tensors.values()) total += tensor.size;
    return total;
  }

  dispose(): void {
    for (const tensor of this.tensors.values()) tensor.dispose();
    this.tensors.clear();
  }
}
