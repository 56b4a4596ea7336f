import { InvalidInputError } from '@recipe-kit/core';
import { choleskyFactor } from '../shared/cholesky-factor.js';
import { choleskySolve } from '../shared/cholesky-solve.js';

export interface RidgeSolution {
  /** ΔW [in, out] row-major. */
  delta: Float64Array;
  /**
   * The hand-derived backward pass: for Γ = ∂L/∂ΔW [in, out], returns ∂L/∂D [N, out] and
   * ∂L/∂(log λ), without differentiating through the solve.
   */
  backward(gamma: ArrayLike<number>): { shifts: Float64Array; logLambda: number };
}

/**
 * MALMEN's aggregation of many edits' value shifts (spec §7.3): ΔW = argmin ‖K ΔW − D‖² + λ‖ΔW‖²
 * = (KᵀK + λI)⁻¹ Kᵀ D with λ = exp(log_lambda), keys K [N, in], shifts D [N, out]. Solved in the
 * dual form ΔW = Kᵀ (K Kᵀ + λI)⁻¹ D (the same matrix by the push-through identity): an N×N system,
 * small when the rows are fewer than the key width, as for the edits of one call here.
 *
 * Gradient (spec §7.4, written for the dual form): with A = K Kᵀ + λI and X = A⁻¹ D (so ΔW = Kᵀ X),
 *   ∂L/∂D = A⁻¹ K Γ                     (ΔW is linear in D; A is symmetric)
 *   ∂L/∂λ = −⟨A⁻¹ K Γ, X⟩_F             (∂A⁻¹/∂λ = −A⁻²), so ∂L/∂(log λ) = −λ ⟨A⁻¹ K Γ, X⟩_F,
 * equal to the primal −e^λ⟨S⁻¹Γ, ΔW⟩ with S = KᵀK + λI, since S⁻¹Kᵀ = KᵀA⁻¹.
 */
export function ridgeLeastSquares(keys: ArrayLike<number>, shifts: ArrayLike<number>, rows: number, inputSize: number, outputSize: number, logLambda: number): RidgeSolution {
  if (keys.length !== rows * inputSize || shifts.length !== rows * outputSize) {
    throw new InvalidInputError(`Least squares got ${keys.length} key and ${shifts.length} shift values for ${rows} rows of widths ${inputSize} and ${outputSize}.`, 'Pass keys [N, in] and shifts [N, out] row-major.');
  }
  const lambda = Math.exp(logLambda);
  const gram = new Float64Array(rows * rows); // A = K Kᵀ + λI
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < inputSize; k++) sum += (keys[i * inputSize + k] as number) * (keys[j * inputSize + k] as number);
      gram[i * rows + j] = sum;
      gram[j * rows + i] = sum;
    }
    gram[i * rows + i] = (gram[i * rows + i] as number) + lambda;
  }
  const factor = choleskyFactor(gram, rows);
  const solved = choleskySolve(factor, rows, Float64Array.from(shifts), outputSize); // X [N, out]
  const delta = new Float64Array(inputSize * outputSize); // Kᵀ X
  for (let n = 0; n < rows; n++) {
    for (let i = 0; i < inputSize; i++) {
      const k = keys[n * inputSize + i] as number;
      if (k === 0) continue;
      for (let o = 0; o < outputSize; o++) delta[i * outputSize + o] = (delta[i * outputSize + o] as number) + k * (solved[n * outputSize + o] as number);
    }
  }
  return {
    delta,
    backward(gamma) {
      const projected = new Float64Array(rows * outputSize); // K Γ [N, out]
      for (let n = 0; n < rows; n++) {
        for (let i = 0; i < inputSize; i++) {
          const k = keys[n * inputSize + i] as number;
          if (k === 0) continue;
          for (let o = 0; o < outputSize; o++) projected[n * outputSize + o] = (projected[n * outputSize + o] as number) + k * (gamma[i * outputSize + o] as number);
        }
      }
      const shiftGradient = choleskySolve(factor, rows, projected, outputSize);
      let inner = 0;
      for (let i = 0; i < shiftGradient.length; i++) inner += (shiftGradient[i] as number) * (solved[i] as number);
      return { shifts: shiftGradient, logLambda: -lambda * inner };
    },
  };
}
