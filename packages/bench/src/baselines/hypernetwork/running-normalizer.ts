import * as tf from '@tensorflow/tfjs';
import { InvalidCheckpointError } from '@recipe-kit/core';

/**
 * Per-dimension running mean and standard deviation (Chan et al.'s parallel Welford update, in
 * float64), as MEND's and MALMEN's input normalisation: updated while training, frozen when editing.
 */
export class RunningNormalizer {
  count = 0;
  readonly mean: Float64Array;
  /** Sum of squared deviations from the mean, per dimension. */
  readonly squares: Float64Array;

  constructor(readonly dimension: number) {
    this.mean = new Float64Array(dimension);
    this.squares = new Float64Array(dimension);
  }

  /** Adds rows (row-major [n, dimension]) to the statistics. */
  update(rows: Float32Array | Float64Array): void {
    const d = this.dimension;
    const n = rows.length / d;
    if (n === 0) return;
    const batchMean = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) batchMean[j] = (batchMean[j] as number) + (rows[r * d + j] as number) / n;
    const batchSquares = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) {
        const deviation = (rows[r * d + j] as number) - (batchMean[j] as number);
        batchSquares[j] = (batchSquares[j] as number) + deviation * deviation;
      }
    }
    const total = this.count + n;
    for (let j = 0; j < d; j++) {
      const delta = (batchMean[j] as number) - (this.mean[j] as number);
      this.mean[j] = (this.mean[j] as number) + (delta * n) / total;
      this.squares[j] = (this.squares[j] as number) + (batchSquares[j] as number) + (delta * delta * this.count * n) / total;
    }
    this.count = total;
  }

  /** Standard deviation per dimension (population); 1 before any update, so normalising is then the identity. */
  standardDeviation(): Float64Array {
    if (this.count < 2) return new Float64Array(this.dimension).fill(1);
    return this.squares.map((s) => Math.sqrt(s / this.count));
  }

  /** (x − μ) / (σ + 1e-7) for x [n, dimension] (MEND's epsilon). */
  normalize(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const std = this.standardDeviation();
      return tf.div(tf.sub(x, tf.tensor1d(Float32Array.from(this.mean))), tf.tensor1d(Float32Array.from(std, (s) => s + 1e-7))) as tf.Tensor2D;
    });
  }

  /** The statistics as JSON (numbers round-trip float64 exactly, so resuming continues the same run). */
  toJSON(): { dimension: number; count: number; mean: number[]; squares: number[] } {
    return { dimension: this.dimension, count: this.count, mean: Array.from(this.mean), squares: Array.from(this.squares) };
  }

  static fromJSON(value: unknown, source: string): RunningNormalizer {
    const saved = value as Partial<ReturnType<RunningNormalizer['toJSON']>> | undefined;
    const dimension = saved?.dimension;
    if (typeof dimension !== 'number' || typeof saved?.count !== 'number' || saved.mean?.length !== dimension || saved.squares?.length !== dimension) {
      throw new InvalidCheckpointError(`${source} has no valid normalizer statistics.`, 'Use a hypernetwork written by recipe-kit train-mend / train-malmen.');
    }
    const normalizer = new RunningNormalizer(dimension);
    normalizer.count = saved.count;
    normalizer.mean.set(saved.mean);
    normalizer.squares.set(saved.squares);
    return normalizer;
  }
}
