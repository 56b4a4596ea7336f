import { innerProduct } from './inner-product.js';

/**
 * Writes the inner product of each of the first `count` rows of the row-major matrix `rows`
 * ([≥count × dimension]) with `query` into `out[0..count)`.
 *
 * Four rows are scored per pass over the query: each query element is loaded once for four
 * independent sums, which V8 overlaps; measured ~20–25% faster than one row at a time at d = 256.
 * Each row's own sum still runs left to right, so every score equals `innerProduct` bit for bit.
 */
export function scoreRows(rows: Float32Array, count: number, query: Float32Array, dimension: number, out: Float64Array): void {
  let row = 0;
  for (; row + 3 < count; row += 4) {
    const offset0 = row * dimension;
    const offset1 = offset0 + dimension;
    const offset2 = offset1 + dimension;
    const offset3 = offset2 + dimension;
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    for (let i = 0; i < dimension; i++) {
      const q = query[i]!;
      sum0 += rows[offset0 + i]! * q;
      sum1 += rows[offset1 + i]! * q;
      sum2 += rows[offset2 + i]! * q;
      sum3 += rows[offset3 + i]! * q;
    }
    out[row] = sum0;
    out[row + 1] = sum1;
    out[row + 2] = sum2;
    out[row + 3] = sum3;
  }
  for (; row < count; row++) out[row] = innerProduct(rows, row * dimension, query, dimension);
}
