import { InvalidCheckpointError } from '@recipe-kit/core';
import { CheckpointFile } from './checkpoint-file.js';
import type { NamedTensor, TensorMap } from './named-tensor.js';

export interface Llama2cCheckpoint {
  /** A Hugging Face LLaMA `config.json` equivalent. */
  config: Record<string, unknown>;
  /** Weights under Hugging Face LLaMA names, q/k rows permuted to the rotate-half RoPE layout. */
  tensors: TensorMap;
}

const headerBytes = 7 * 4;
// `export.py --version 1/2` files start with this magic ("ak42") instead of the legacy header.
const versionedExportMagic = 0x616b3432;

/**
 * Reads a karpathy/llama2.c checkpoint in the legacy (version 0) format that `run.c` loads, e.g.
 * stories260K.bin. The file is small, so it is read in one pass into one buffer; every tensor is a
 * view into it except q_proj/k_proj, which must be permuted into a new array (see `permuteRotaryRows`).
 */
export async function readLlama2cCheckpoint(file: string): Promise<Llama2cCheckpoint> {
  const checkpoint = await CheckpointFile.open(file);
  let buffer: ArrayBuffer;
  try {
    // The header is checked against the file size before the weights are read, so a wrong file
    // fails without being loaded.
    const headerBuffer = new ArrayBuffer(Math.min(headerBytes, checkpoint.size));
    await checkpoint.readInto(new Uint8Array(headerBuffer), 0);
    parseHeader(file, headerBuffer, checkpoint.size);
    // An ArrayBuffer of our own (not a pooled Buffer) guarantees the 4-byte alignment Float32Array views need.
    buffer = new ArrayBuffer(checkpoint.size);
    if (!(await checkpoint.readInto(new Uint8Array(buffer), 0))) {
      throw new InvalidCheckpointError(`${file} shrank while being read.`, 'Read the checkpoint when nothing is writing it.');
    }
  } finally {
    await checkpoint.close();
  }
  const { dim, hiddenDim, layers, heads, kvHeads, vocab, seqLen, sharedClassifier } = parseHeader(file, buffer, buffer.byteLength);
  const headSize = dim / heads;
  const qRows = heads * headSize;
  const kvRows = kvHeads * headSize;

  // Sequential cursor over the float section, in run.c's `memory_map_weights` order.
  let offset = headerBytes;
  const take = (count: number): Float32Array => {
    const view = new Float32Array(buffer, offset, count);
    offset += count * 4;
    return view;
  };
  // One contiguous [layers, ...shape] block split into per-layer views.
  const perLayerTensors = (shape: number[]): NamedTensor[] => {
    const size = shape.reduce((product, extent) => product * extent, 1);
    const all = take(layers * size);
    return Array.from({ length: layers }, (_, layer) => ({
      shape: [...shape],
      data: all.subarray(layer * size, (layer + 1) * size),
    }));
  };

  const embedding: NamedTensor = { shape: [vocab, dim], data: take(vocab * dim) };
  const attentionNorm = perLayerTensors([dim]);
  const query = perLayerTensors([qRows, dim]).map((tensor) => permuteRotaryRows(tensor, heads));
  const key = perLayerTensors([kvRows, dim]).map((tensor) => permuteRotaryRows(tensor, kvHeads));
  const value = perLayerTensors([kvRows, dim]);
  const output = perLayerTensors([dim, qRows]);
  const feedForwardNorm = perLayerTensors([dim]);
  const gate = perLayerTensors([hiddenDim, dim]); // w1
  const down = perLayerTensors([dim, hiddenDim]); // w2
  const up = perLayerTensors([hiddenDim, dim]); // w3
  const finalNorm: NamedTensor = { shape: [dim], data: take(dim) };
  take(seqLen * headSize); // freq_cis_real and freq_cis_imag: recomputed from rope_theta, not weights
  const classifier: NamedTensor = sharedClassifier ? embedding : { shape: [vocab, dim], data: take(vocab * dim) };

  const tensors: TensorMap = new Map();
  tensors.set('model.embed_tokens.weight', embedding);
  for (let layer = 0; layer < layers; layer += 1) {
    const prefix = `model.layers.${layer}`;
    const at = <T>(list: T[]): T => list[layer] as T;
    tensors.set(`${prefix}.input_layernorm.weight`, at(attentionNorm));
    tensors.set(`${prefix}.self_attn.q_proj.weight`, at(query));
    tensors.set(`${prefix}.self_attn.k_proj.weight`, at(key));
    tensors.set(`${prefix}.self_attn.v_proj.weight`, at(value));
    tensors.set(`${prefix}.self_attn.o_proj.weight`, at(output));
    tensors.set(`${prefix}.post_attention_layernorm.weight`, at(feedForwardNorm));
    tensors.set(`${prefix}.mlp.gate_proj.weight`, at(gate));
    tensors.set(`${prefix}.mlp.up_proj.weight`, at(up));
    tensors.set(`${prefix}.mlp.down_proj.weight`, at(down));
  }
  tensors.set('model.norm.weight', finalNorm);
  // When tied this is the very same object as the embedding: no copy, and callers can detect the tie.
  tensors.set('lm_head.weight', classifier);

  const config: Record<string, unknown> = {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    hidden_size: dim,
    intermediate_size: hiddenDim,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    vocab_size: vocab,
    max_position_embeddings: seqLen,
    rms_norm_eps: 1e-5, // run.c's rmsnorm epsilon
    rope_theta: 10000, // run.c's rotary base
    tie_word_embeddings: sharedClassifier,
    hidden_act: 'silu',
  };
  return { config, tensors };
}

interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  seqLen: number;
  sharedClassifier: boolean;
}

/** Validates the 7-int32 header and that it implies exactly `fileSize` bytes. */
function parseHeader(file: string, buffer: ArrayBuffer, fileSize: number): Llama2cHeader {
  const fail = (problem: string, hint: string): never => {
    throw new InvalidCheckpointError(`${file}: ${problem}`, hint);
  };
  if (buffer.byteLength < headerBytes) {
    fail(
      `only ${buffer.byteLength} bytes, shorter than the ${headerBytes}-byte llama2.c header.`,
      'Pass a llama2.c .bin checkpoint (legacy format), downloaded or exported completely.',
    );
  }
  const header = new Int32Array(buffer, 0, 7);
  if (header[0] === versionedExportMagic) {
    fail(
      'is a llama2.c version 1/2 export (magic "ak42"); only the legacy version 0 format is read.',
      'Re-export with llama2.c `export.py --version 0`.',
    );
  }
  const [dim, hiddenDim, layers, heads, kvHeads, signedVocab, seqLen] = Array.from(header) as [
    number, number, number, number, number, number, number,
  ];
  // llama2.c stores a negative vocab size to say the classifier is not shared with the embedding.
  const sharedClassifier = signedVocab > 0;
  const vocab = Math.abs(signedVocab);
  const fields = { dim, hidden_dim: hiddenDim, n_layers: layers, n_heads: heads, n_kv_heads: kvHeads, vocab_size: vocab, seq_len: seqLen };
  const headerHint = 'The header is corrupt or this is not a llama2.c legacy .bin: export the checkpoint again.';
  for (const [name, value] of Object.entries(fields)) {
    if (!(value > 0)) fail(`header field ${name} is ${value}; all seven header fields must be positive.`, headerHint);
  }
  if (dim % heads !== 0) fail(`n_heads ${heads} does not divide dim ${dim}.`, headerHint);
  if (heads % kvHeads !== 0) fail(`n_kv_heads ${kvHeads} does not divide n_heads ${heads}.`, headerHint);
  const headSize = dim / heads;
  if (headSize % 2 !== 0) fail(`head size ${headSize} (dim / n_heads) is odd; rotary embeddings need pairs.`, headerHint);

  const qRows = heads * headSize;
  const kvRows = kvHeads * headSize;
  const perLayer = 2 * dim + qRows * dim + 2 * kvRows * dim + dim * qRows + 3 * hiddenDim * dim;
  // freq_cis_real + freq_cis_imag: seq_len * headSize/2 floats each.
  const expectedFloats = vocab * dim + layers * perLayer + dim + seqLen * headSize + (sharedClassifier ? 0 : vocab * dim);
  const expectedBytes = headerBytes + 4 * expectedFloats;
  if (expectedBytes !== fileSize) {
    fail(
      `the header (${JSON.stringify(fields)}, ${sharedClassifier ? 'shared' : 'unshared'} classifier) implies ` +
        `${expectedBytes} bytes but the file has ${fileSize} bytes.`,
      'The file is truncated or not a llama2.c legacy (version 0) export: download or export it again.',
    );
  }
  return { dim, hiddenDim, layers, heads, kvHeads, vocab, seqLen, sharedClassifier };
}

/**
 * llama2.c rotates interleaved pairs (dims 2i, 2i+1 of a head); Hugging Face LLaMA's rotate_half
 * pairs dims i and i + headSize/2. Reordering the projection rows per head makes the two agree,
 * exactly like convert_llama_weights_to_hf's
 * `w.view(heads, headSize/2, 2, dim).transpose(1, 2).reshape(heads*headSize, dim)`:
 * new row h*headSize + j*headSize/2 + i  =  old row h*headSize + 2i + j   (j ∈ {0, 1}).
 */
export function permuteRotaryRows(tensor: NamedTensor, heads: number): NamedTensor {
  const [rows, columns] = tensor.shape as [number, number];
  const headSize = rows / heads;
  const half = headSize / 2;
  const permuted = new Float32Array(tensor.data.length);
  for (let head = 0; head < heads; head += 1) {
    for (let pair = 0; pair < half; pair += 1) {
      for (let member = 0; member < 2; member += 1) {
        const from = (head * headSize + 2 * pair + member) * columns;
        const to = (head * headSize + member * half + pair) * columns;
        permuted.set(tensor.data.subarray(from, from + columns), to);
      }
    }
  }
  return { shape: [rows, columns], data: permuted };
}
