import { InvalidInputError } from '@recipe-kit/core';

/**
 * The lower-triangular Cholesky factor L of a symmetric positive-definite n×n matrix (A = L Lᵀ),
 * in float64 (tfjs has no Cholesky). Both matrices are row-major; only A's lower triangle is read.
 */
export function choleskyFactor(matrix: Float64Array, n: number): Float64Array {
  if (matrix.length !== n * n) {
    throw new InvalidInputError(`A ${n}×${n} matrix needs ${n * n} values, got ${matrix.length}.`, 'Pass the matrix row-major with its size.');
  }
  const factor = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diagonal = matrix[j * n + j] as number;
    for (let k = 0; k < j; k++) diagonal -= (factor[j * n + k] as number) ** 2;
    if (!(diagonal > 0)) {
      throw new InvalidInputError(
        `The matrix is not positive definite (pivot ${j} is ${diagonal}).`,
        'Regularise it first (add ε·mean(diag)·I), or check that it is a second-moment matrix of enough samples.',
      );
    }
    const pivot = Math.sqrt(diagonal);
    factor[j * n + j] = pivot;
    for (let i = j + 1; i < n; i++) {
      let sum = matrix[i * n + j] as number;
      for (let k = 0; k < j; k++) sum -= (factor[i * n + k] as number) * (factor[j * n + k] as number);
      factor[i * n + j] = sum / pivot;
    }
  }
  return factor;
}
