import * as tf from '@tensorflow/tfjs';

/** A right-padded batch of token rows: ids [batch, width] int32 and mask [batch, width] (1 = token). */
export interface TokenBatch {
  ids: tf.Tensor2D;
  mask: tf.Tensor2D;
  width: number;
}

/** Right padding keeps each row's indices valid (spec §0.4); pads repeat the row's first id (masked out). */
export function tokenBatch(rows: readonly (readonly number[])[]): TokenBatch {
  const width = Math.max(...rows.map((row) => row.length));
  const ids = new Int32Array(rows.length * width);
  const mask = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    for (let column = 0; column < width; column++) {
      ids[r * width + column] = column < row.length ? (row[column] as number) : (row[0] as number);
      mask[r * width + column] = column < row.length ? 1 : 0;
    }
  });
  return { ids: tf.tensor2d(ids, [rows.length, width], 'int32'), mask: tf.tensor2d(mask, [rows.length, width]), width };
}

/** [batch, width, 1] with 1 at each row's `positions[row]` and 0 elsewhere (where a hook adds a vector). */
export function positionMask(positions: readonly number[], width: number): tf.Tensor3D {
  const values = new Float32Array(positions.length * width);
  positions.forEach((position, row) => {
    values[row * width + position] = 1;
  });
  return tf.tensor3d(values, [positions.length, width, 1]);
}
