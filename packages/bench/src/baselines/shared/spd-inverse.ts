import { spdSolve } from './spd-solve.js';

/** A⁻¹ of a symmetric positive-definite n×n matrix (row-major float64), solved against the identity. */
export function spdInverse(matrix: Float64Array, n: number): Float64Array {
  const identity = new Float64Array(n * n);
  for (let i = 0; i < n; i++) identity[i * n + i] = 1;
  return spdSolve(matrix, n, identity, n);
}
