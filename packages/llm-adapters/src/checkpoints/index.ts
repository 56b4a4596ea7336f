export type { NamedTensor, TensorMap, SafetensorsDtype } from './named-tensor.js';
export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  safetensorsDtypeBytes,
} from './named-tensor.js';
export type { SafetensorsHeader, SafetensorsTensorInfo } from './safetensors-reader.js';
export { iterateSafetensors, readSafetensorsHeader } from './safetensors-reader.js';
export {
  iterateHuggingFaceWeights,
  readHuggingFaceConfig,
  safetensorsIndexFileName,
  safetensorsSingleFileName,
} from './huggingface-weights.js';
export type { ShardedSafetensorsFiles, WriteSafetensorsOptions, WriteShardedSafetensorsOptions } from './safetensors-writer.js';
export { writeSafetensors, writeShardedSafetensors } from './safetensors-writer.js';
export type { Llama2cCheckpoint } from './llama2c-checkpoint.js';
export { permuteRotaryRows, readLlama2cCheckpoint } from './llama2c-checkpoint.js';
