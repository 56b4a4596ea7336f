import { createRandom, InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { choleskyFactor } from '../../../src/baselines/shared/cholesky-factor.js';
import { choleskySolve } from '../../../src/baselines/shared/cholesky-solve.js';
import { regulariseSecondMoment } from '../../../src/baselines/shared/regularise-second-moment.js';
import { spdInverse } from '../../../src/baselines/shared/spd-inverse.js';
import { spdSolve } from '../../../src/baselines/shared/spd-solve.js';

/** A random SPD matrix M Mᵀ + n·I (row-major) and its size. */
function randomSpd(n: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const m = Float64Array.from({ length: n * n }, () => random() * 2 - 1);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let sum = i === j ? n : 0;
    for (let k = 0; k < n; k++) sum += (m[i * n + k] as number) * (m[j * n + k] as number);
    a[i * n + j] = sum;
  }
  return a;
}

function multiply(a: Float64Array, b: Float64Array, n: number, columns: number): Float64Array {
  const c = new Float64Array(n * columns);
  for (let i = 0; i < n; i++) for (let j = 0; j < columns; j++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += (a[i * n + k] as number) * (b[k * columns + j] as number);
    c[i * columns + j] = sum;
  }
  return c;
}

describe('float64 linear algebra', () => {
  it('factors a hand-computed 3×3 SPD matrix exactly', () => {
    // The textbook example: [[4,12,-16],[12,37,-43],[-16,-43,98]] = L Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]].
    const a = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);
    expect(Array.from(choleskyFactor(a, 3))).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
    // A x = b with x = (1, -2, 3) known: b = A x.
    const b = Float64Array.from([4 * 1 + 12 * -2 + -16 * 3, 12 * 1 + 37 * -2 + -43 * 3, -16 * 1 + -43 * -2 + 98 * 3]);
    expect(Array.from(choleskySolve(choleskyFactor(a, 3), 3, b, 1)).map((x) => Math.round(x * 1e12) / 1e12)).toEqual([1, -2, 3]);
  });

  it('reconstructs A = L Lᵀ and solves several right-hand sides of a random 40×40 system to 1e-10', () => {
    const n = 40;
    const a = randomSpd(n, 3);
    const l = choleskyFactor(a, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += (l[i * n + k] as number) * (l[j * n + k] as number);
      expect(Math.abs(sum - (a[i * n + j] as number))).toBeLessThan(1e-10);
      if (j > i) expect(l[i * n + j]).toBe(0);
    }
    const random = createRandom(4);
    const x = Float64Array.from({ length: n * 3 }, () => random() - 0.5);
    const solved = spdSolve(a, n, multiply(a, x, n, 3), 3);
    solved.forEach((value, i) => expect(Math.abs(value - (x[i] as number))).toBeLessThan(1e-10));
  });

  it('inverts: A · A⁻¹ = I to 1e-10', () => {
    const n = 25;
    const a = randomSpd(n, 5);
    const product = multiply(a, spdInverse(a, n), n, n);
    product.forEach((value, index) => expect(Math.abs(value - (Math.floor(index / n) === index % n ? 1 : 0))).toBeLessThan(1e-10));
  });

  it('refuses a matrix that is not positive definite, naming the fix', () => {
    const singular = Float64Array.from([1, 2, 2, 4]);
    expect(() => choleskyFactor(singular, 2)).toThrow(InvalidInputError);
    expect(() => choleskyFactor(singular, 2)).toThrow(/not positive definite.*\n.*Regularise/);
    expect(() => choleskyFactor(new Float64Array(3), 2)).toThrow(/needs 4 values/);
    // Shrinkage ε·tr/n on the diagonal makes it factorable: tr = 5, n = 2, ε = 0.1 → +0.25.
    const shrunk = regulariseSecondMoment(singular, 2, 0.1);
    expect(Array.from(shrunk)).toEqual([1.25, 2, 2, 4.25]);
    expect(() => choleskyFactor(shrunk, 2)).not.toThrow();
  });
});
