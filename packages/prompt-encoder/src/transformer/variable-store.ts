import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@recipe-kit/core';
import type { NamedTensor } from '@recipe-kit/core';

/**
 * Trainable weights by name. tfjs variable names are global, so the variables themselves get
 * tfjs's unique automatic names and our names live only in this map: two models can coexist.
 */
export class VariableStore {
  private readonly variables = new Map<string, tf.Variable>();

  /** Takes ownership of `initial` (it becomes the variable's value and is disposed with it). */
  add(name: string, initial: tf.Tensor, trainable = true): tf.Variable {
    if (this.variables.has(name)) throw new InvalidInputError(`Weight "${name}" is defined twice.`, 'Use unique weight names.');
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.variables.set(name, variable);
    return variable;
  }

  has(name: string): boolean {
    return this.variables.has(name);
  }

  get(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) {
      throw new InvalidInputError(`No weight named "${name}".`, `Use one of ${[...this.variables.keys()].slice(0, 4).join(', ')}, …`);
    }
    return variable;
  }

  names(): string[] {
    return [...this.variables.keys()];
  }

  /** The trainable variables, by name (a new map; the variables are shared, not copied). */
  trainable(prefix = ''): Map<string, tf.Variable> {
    const result = new Map<string, tf.Variable>();
    for (const [name, variable] of this.variables) if (variable.trainable) result.set(prefix + name, variable);
    return result;
  }

  /** Every weight's values (or those `include` accepts) in host memory, in insertion order. */
  async toNamedTensors(include: (name: string) => boolean = () => true): Promise<[string, NamedTensor][]> {
    const result: [string, NamedTensor][] = [];
    for (const [name, variable] of this.variables) {
      if (!include(name)) continue;
      result.push([name, { shape: [...variable.shape], data: (await variable.data()) as Float32Array }]);
    }
    return result;
  }

  parameterCount(): number {
    let total = 0;
    for (const variable of this.variables.values()) total += variable.size;
    return total;
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}
