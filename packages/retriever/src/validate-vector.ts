import { InvalidInputError } from '@recipe-kit/core';

/**
 * Checks that `vector` is a Float32Array of `dimension` finite numbers; `what` names it in the
 * message ("vector of id \"e1\"", "query"). One NaN in a key would make every later comparison with
 * it false and silently hide the entry, so it is rejected at the door instead.
 */
export function validateVector(vector: unknown, dimension: number, what: string): asserts vector is Float32Array {
  if (!(vector instanceof Float32Array)) {
    throw new InvalidInputError(
      `The ${what} is not a Float32Array.`,
      'Pass the vector as a Float32Array (e.g. `new Float32Array(values)` or `await tensor.data()`).',
    );
  }
  if (vector.length !== dimension) {
    throw new InvalidInputError(
      `The ${what} has dimension ${vector.length}, but this index holds vectors of dimension ${dimension}.`,
      `Pass a vector of length ${dimension}: keys and queries must come from the same retriever heads (d_r).`,
    );
  }
  for (let i = 0; i < dimension; i++) {
    if (!Number.isFinite(vector[i])) {
      throw new InvalidInputError(
        `The ${what} has a non-finite value (${vector[i]}) at position ${i}.`,
        'Check the encoder output for NaN/Infinity (overflow, division by zero, uninitialised weights) before storing or searching.',
      );
    }
  }
}
