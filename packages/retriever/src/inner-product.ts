/**
 * Inner product of `dimension` floats of `rows` starting at `offset` with `query`, summed in float64
 * (JS numbers) strictly left to right.
 *
 * That summation order is part of the contract: `scoreRows` (the index's scan) uses the same order,
 * so a key equal to the sentinel gets a bit-identical score and the strict `s_j > s_0` rule rejects
 * it, and tests can compare against a naive loop exactly.
 */
export function innerProduct(rows: Float32Array, offset: number, query: Float32Array, dimension: number): number {
  let sum = 0;
  for (let i = 0; i < dimension; i++) sum += rows[offset + i]! * query[i]!;
  return sum;
}
