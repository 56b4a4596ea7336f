import { InvalidInputError } from '@recipe-kit/core';

/**
 * Solves A X = B given A's Cholesky factor L (from `choleskyFactor`): forward substitution with L,
 * then back substitution with Lᵀ, in float64. B is n×columns row-major; returns X the same way.
 */
export function choleskySolve(factor: Float64Array, n: number, rhs: Float64Array, columns: number): Float64Array {
  if (factor.length !== n * n || rhs.length !== n * columns) {
    throw new InvalidInputError(
      `choleskySolve got a factor of ${factor.length} values and a right-hand side of ${rhs.length} for n = ${n}, ${columns} columns.`,
      'Pass an n×n factor and an n×columns right-hand side, row-major.',
    );
  }
  const x = Float64Array.from(rhs);
  for (let c = 0; c < columns; c++) {
    // L y = b
    for (let i = 0; i < n; i++) {
      let sum = x[i * columns + c] as number;
      for (let k = 0; k < i; k++) sum -= (factor[i * n + k] as number) * (x[k * columns + c] as number);
      x[i * columns + c] = sum / (factor[i * n + i] as number);
    }
    // Lᵀ x = y
    for (let i = n - 1; i >= 0; i--) {
      let sum = x[i * columns + c] as number;
      for (let k = i + 1; k < n; k++) sum -= (factor[k * n + i] as number) * (x[k * columns + c] as number);
      x[i * columns + c] = sum / (factor[i * n + i] as number);
    }
  }
  return x;
}
