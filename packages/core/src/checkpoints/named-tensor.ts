/** A tensor's values in host memory, row-major float32, with its shape. */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}
