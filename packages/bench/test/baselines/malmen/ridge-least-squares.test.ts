import { describe, expect, it } from 'vitest';
import { createRandom } from '@recipe-kit/core';
import { ridgeLeastSquares } from '../../../src/baselines/malmen/ridge-least-squares.js';

function randomMatrix(rows: number, columns: number, seed: number): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length: rows * columns }, () => random() * 2 - 1);
}

/** (KᵀK + λI)⁻¹ KᵀD by Gauss–Jordan elimination with partial pivoting: an independent primal reference. */
function primalReference(keys: Float64Array, shifts: Float64Array, rows: number, inputSize: number, outputSize: number, lambda: number): Float64Array {
  const width = inputSize + outputSize;
  const augmented = new Float64Array(inputSize * width);
  for (let i = 0; i < inputSize; i++) {
    for (let j = 0; j < inputSize; j++) {
      let sum = i === j ? lambda : 0;
      for (let n = 0; n < rows; n++) sum += (keys[n * inputSize + i] as number) * (keys[n * inputSize + j] as number);
      augmented[i * width + j] = sum;
    }
    for (let o = 0; o < outputSize; o++) {
      let sum = 0;
      for (let n = 0; n < rows; n++) sum += (keys[n * inputSize + i] as number) * (shifts[n * outputSize + o] as number);
      augmented[i * width + inputSize + o] = sum;
    }
  }
  for (let column = 0; column < inputSize; column++) {
    let pivot = column;
    for (let r = column + 1; r < inputSize; r++) if (Math.abs(augmented[r * width + column] as number) > Math.abs(augmented[pivot * width + column] as number)) pivot = r;
    for (let c = 0; c < width; c++) [augmented[column * width + c], augmented[pivot * width + c]] = [augmented[pivot * width + c] as number, augmented[column * width + c] as number];
    const value = augmented[column * width + column] as number;
    for (let c = 0; c < width; c++) augmented[column * width + c] = (augmented[column * width + c] as number) / value;
    for (let r = 0; r < inputSize; r++) {
      if (r === column) continue;
      const factor = augmented[r * width + column] as number;
      for (let c = 0; c < width; c++) augmented[r * width + c] = (augmented[r * width + c] as number) - factor * (augmented[column * width + c] as number);
    }
  }
  return Float64Array.from({ length: inputSize * outputSize }, (_, k) => augmented[Math.floor(k / outputSize) * width + inputSize + (k % outputSize)] as number);
}

/** A smooth loss of ΔW whose gradient depends on ΔW: L = ⟨C, ΔW⟩ + ½‖ΔW‖², so Γ = C + ΔW. */
function loss(delta: Float64Array, weights: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < delta.length; i++) sum += (weights[i] as number) * (delta[i] as number) + 0.5 * (delta[i] as number) ** 2;
  return sum;
}

describe('MALMEN least-squares aggregation', () => {
  for (const [rows, inputSize, outputSize] of [
    [3, 7, 4],
    [9, 5, 3],
  ] as const) {
    it(`solves (KᵀK + λI)⁻¹ KᵀD exactly (N=${rows}, in=${inputSize}, out=${outputSize}), against a primal Gauss–Jordan reference`, () => {
      const keys = randomMatrix(rows, inputSize, 1);
      const shifts = randomMatrix(rows, outputSize, 2);
      const { delta } = ridgeLeastSquares(keys, shifts, rows, inputSize, outputSize, Math.log(0.7));
      const reference = primalReference(keys, shifts, rows, inputSize, outputSize, 0.7);
      delta.forEach((value, i) => expect(value).toBeCloseTo(reference[i] as number, 12));
    });

    it(`its hand-derived gradients ∂L/∂D and ∂L/∂log λ match central finite differences (N=${rows}, in=${inputSize})`, () => {
      const keys = randomMatrix(rows, inputSize, 3);
      const shifts = randomMatrix(rows, outputSize, 4);
      const weights = randomMatrix(inputSize, outputSize, 5);
      const logLambda = Math.log(0.4);
      const solution = ridgeLeastSquares(keys, shifts, rows, inputSize, outputSize, logLambda);
      const gamma = solution.delta.map((value, i) => (weights[i] as number) + value);
      const gradient = solution.backward(gamma);
      const at = (d: Float64Array, l: number): number => loss(ridgeLeastSquares(keys, d, rows, inputSize, outputSize, l).delta, weights);
      const h = 1e-6;
      for (let i = 0; i < shifts.length; i++) {
        const plus = Float64Array.from(shifts);
        const minus = Float64Array.from(shifts);
        plus[i] = (plus[i] as number) + h;
        minus[i] = (minus[i] as number) - h;
        expect(gradient.shifts[i]).toBeCloseTo((at(plus, logLambda) - at(minus, logLambda)) / (2 * h), 7);
      }
      const numeric = (at(shifts, logLambda + h) - at(shifts, logLambda - h)) / (2 * h);
      expect(Math.abs(gradient.logLambda)).toBeGreaterThan(1e-3);
      expect(gradient.logLambda).toBeCloseTo(numeric, 7);
    });
  }

  it('refuses keys and shifts that do not match the row count, naming the shapes', () => {
    expect(() => ridgeLeastSquares(new Float64Array(6), new Float64Array(4), 3, 2, 2, 0)).toThrow(/6 key and 4 shift values for 3 rows/);
  });
});
