import { choleskyFactor } from './cholesky-factor.js';
import { choleskySolve } from './cholesky-solve.js';

/** X with A X = B for a symmetric positive-definite A (n×n) and B (n×columns), row-major float64. */
export function spdSolve(matrix: Float64Array, n: number, rhs: Float64Array, columns: number): Float64Array {
  return choleskySolve(choleskyFactor(matrix, n), n, rhs, columns);
}
