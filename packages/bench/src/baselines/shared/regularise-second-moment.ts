/**
 * C + ε·(tr(C)/n)·I: shrinkage that keeps a second-moment matrix estimated from a small corpus
 * positive definite (spec §0.6) without changing its scale. Returns a new matrix.
 */
export function regulariseSecondMoment(matrix: Float64Array, n: number, epsilon: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += matrix[i * n + i] as number;
  const shift = (epsilon * trace) / n;
  const result = Float64Array.from(matrix);
  for (let i = 0; i < n; i++) result[i * n + i] = (result[i * n + i] as number) + shift;
  return result;
}
