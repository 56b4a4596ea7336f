/**
 * A tensor whose values are produced only when the writer reaches it. The safetensors header needs
 * every shape before the first data byte, so a writer given plain tensors from a generator must keep
 * them all alive; with deferred tensors it holds shapes only and drops each array after writing it
 * (e.g. `load: () => weight.data()` downloads one tfjs weight at a time).
 */
export interface DeferredTensor {
  /** Row-major dimensions; `load()` must return exactly their product of values. */
  shape: number[];
  load: () => Float32Array | Promise<Float32Array>;
}
