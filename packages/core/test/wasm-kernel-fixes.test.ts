import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend/select-backend.js';
import { LARGEST_TRANSPOSED_OPERAND } from '../src/backend/wasm-kernel-fixes.js';

/** Runs `compute` on a backend and returns plain arrays, so results of two backends can be compared. */
async function on(backend: 'cpu' | 'wasm', compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const tensors = compute();
  const values = tensors.map((t) => t.dataSync() as Float32Array);
  tf.dispose(tensors);
  return values;
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((values, i) => values.forEach((v, j) => (max = Math.max(max, Math.abs(v - ((b[i] as Float32Array)[j] as number))))));
  return max;
}

describe('wasm kernel fixes', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm', log: null });
  });

  it('transposed batched matMul gives the cpu backend result', async () => {
    const compute = (): tf.Tensor[] => {
      const a = tf.randomNormal([3, 5, 7], 0, 1, 'float32', 1);
      const b = tf.randomNormal([3, 6, 7], 0, 1, 'float32', 2);
      const c = tf.randomNormal([3, 5, 6], 0, 1, 'float32', 3);
      return [tf.matMul(a, b, false, true), tf.matMul(a, c, true, false), tf.matMul(b, c, true, true)];
    };
    const wasm = await on('wasm', compute);
    const cpu = await on('cpu', compute);
    expect(maxDifference(wasm, cpu)).toBeLessThan(1e-4);
    expect(wasm[0]?.length).toBe(3 * 5 * 6);
  });

  it('an operand too large to copy (output-projection size) is multiplied transposed in place, with the same result', async () => {
    // b: [2, 3, K] with 2·3·K > LARGEST_TRANSPOSED_OPERAND, so the patched kernel skips the temporary transpose.
    const depth = Math.ceil(LARGEST_TRANSPOSED_OPERAND / 6) + 1;
    const compute = (): tf.Tensor[] => {
      const a = tf.randomNormal([2, 2, depth], 0, 1, 'float32', 6);
      const b = tf.randomNormal([2, 3, depth], 0, 1, 'float32', 7);
      return [tf.matMul(a, b, false, true), tf.matMul(b, a, false, true)];
    };
    const wasm = await on('wasm', compute);
    const cpu = await on('cpu', compute);
    // Sums of ~700k products of unit normals: relative error of float32 accumulation.
    expect(maxDifference(wasm, cpu)).toBeLessThan(1e-3 * Math.sqrt(depth));
    expect(wasm[0]?.length).toBe(2 * 2 * 3);
    await tf.setBackend('wasm');
  });

  it('the gradient of gather (embedding lookup) works on wasm and equals cpu', async () => {
    const compute = (): tf.Tensor[] => {
      const table = tf.randomNormal([10, 4], 0, 1, 'float32', 4);
      const ids = tf.tensor1d([1, 3, 3, 9, 1, 1], 'int32');
      const weights = tf.randomNormal([6, 4], 0, 1, 'float32', 5);
      return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table)];
    };
    const wasm = await on('wasm', compute);
    const cpu = await on('cpu', compute);
    expect(maxDifference(wasm, cpu)).toBeLessThan(1e-5);
    // Row 1 gathered three times: its gradient is the sum of three weight rows (non-zero); row 0 never.
    expect(Array.from((wasm[0] as Float32Array).slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Math.abs((wasm[0] as Float32Array)[4] as number)).toBeGreaterThan(0);
    await tf.setBackend('wasm');
  });
});
