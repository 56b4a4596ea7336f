// Checkpoint I/O for the adapters, framework-free (plain Float32Arrays): safetensors (single file and
// sharded Hugging Face directories) and llama2.c legacy .bin files.
export type { NamedTensor, TensorMap, SafetensorsDtype } from './named-tensor.js';
export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  safetensorsDtypeBytes,
} from './named-tensor.js';
export type { DeferredTensor } from './deferred-tensor.js';
export type { SafetensorsHeader, SafetensorsTensorInfo } from './safetensors-reader.js';
export { iterateSafetensors, readSafetensorsHeader } from './safetensors-reader.js';
export {
  iterateHuggingFaceWeights,
  readHuggingFaceConfig,
  safetensorsIndexFileName,
  safetensorsSingleFileName,
} from './huggingface-weights.js';
export type {
  ShardedSafetensorsFiles,
  WritableTensor,
  WriteSafetensorsOptions,
  WriteShardedSafetensorsOptions,
} from './safetensors-writer.js';
export { writeSafetensors, writeShardedSafetensors } from './safetensors-writer.js';
export type { Llama2cCheckpoint } from './llama2c-checkpoint.js';
export { permuteRotaryRows, readLlama2cCheckpoint } from './llama2c-checkpoint.js';
