import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLlama2cCheckpoint } from '../../src/checkpoints/llama2c-checkpoint.js';
import type { NamedTensor, TensorMap } from '../../src/checkpoints/named-tensor.js';
import { sharedData, sharedDataPath } from '../support/shared-data.js';
import { expectCheckpointError, temporaryDirectory } from './checkpoint-test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await temporaryDirectory();
});

/**
 * A legacy llama2.c file whose i-th float (after the header) has the value i, so every tensor
 * element reveals where in the file it came from. `floats` is the hand-computed total.
 */
async function writeSyntheticBin(name: string, header: number[], floats: number, extraBytes = 0): Promise<string> {
  const file = path.join(dir, name);
  const bytes = new Uint8Array(28 + 4 * floats + extraBytes);
  new Int32Array(bytes.buffer, 0, 7).set(header);
  new Float32Array(bytes.buffer, 28, floats).set(Float32Array.from({ length: floats }, (_, index) => index));
  await writeFile(file, bytes);
  return file;
}

function get(tensors: TensorMap, name: string): NamedTensor {
  const found = tensors.get(name);
  if (!found) throw new Error(`missing ${name}`);
  return found;
}

/** Rows of a [rows, columns] tensor as the file indices of their first element. */
function rowStarts(tensor: NamedTensor): number[] {
  const columns = tensor.shape[1] as number;
  return Array.from({ length: tensor.shape[0] as number }, (_, row) => tensor.data[row * columns] as number);
}

// Hand-computed layout (in floats) of dim 8, hidden 3, 2 layers, 2 heads, 1 kv head, vocab 5
// (stored as -5: unshared classifier), seq 3, head size 4:
//   embedding [0,40) rms_att [40,56) wq [56,184) wk [184,248) wv [248,312) wo [312,440)
//   rms_ffn [440,456) w1 [456,504) w2 [504,552) w3 [552,600) rms_final [600,608)
//   freq_cis real+imag [608,620) wcls [620,660)
const syntheticHeader = [8, 3, 2, 2, 1, -5, 3];
const syntheticFloats = 660;

describe('readLlama2cCheckpoint on a synthetic file', () => {
  it('maps run.c order to Hugging Face names and shapes', async () => {
    const file = await writeSyntheticBin('synthetic.bin', syntheticHeader, syntheticFloats);
    const { config, tensors } = await readLlama2cCheckpoint(file);
    expect(config).toMatchObject({
      model_type: 'llama', hidden_size: 8, intermediate_size: 3, num_hidden_layers: 2, num_attention_heads: 2,
      num_key_value_heads: 1, vocab_size: 5, max_position_embeddings: 3, tie_word_embeddings: false,
      rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu',
    });
    const layout: [string, number[], number][] = [
      ['model.embed_tokens.weight', [5, 8], 0],
      ['model.layers.0.input_layernorm.weight', [8], 40],
      ['model.layers.1.input_layernorm.weight', [8], 48],
      ['model.layers.1.self_attn.v_proj.weight', [4, 8], 280],
      ['model.layers.0.self_attn.o_proj.weight', [8, 8], 312],
      ['model.layers.1.post_attention_layernorm.weight', [8], 448],
      ['model.layers.1.mlp.gate_proj.weight', [3, 8], 480],
      ['model.layers.0.mlp.down_proj.weight', [8, 3], 504],
      ['model.layers.0.mlp.up_proj.weight', [3, 8], 552],
      ['model.norm.weight', [8], 600],
      ['lm_head.weight', [5, 8], 620],
    ];
    for (const [name, shape, start] of layout) {
      const found = get(tensors, name);
      expect([name, found.shape, found.data[0], found.data.at(-1)]).toEqual([name, shape, start, start + found.data.length - 1]);
    }
    expect(tensors.size).toBe(1 + 2 * 9 + 2);
  });

  it('permutes q/k rows per head from interleaved to rotate-half order', async () => {
    const file = await writeSyntheticBin('permutation.bin', syntheticHeader, syntheticFloats);
    const { tensors } = await readLlama2cCheckpoint(file);
    // Head size 4, pairs (0,1) and (2,3): rotate-half wants rows [0, 2 | 1, 3] of every head.
    const query = get(tensors, 'model.layers.1.self_attn.q_proj.weight'); // raw rows start at 56 + 64
    expect(query.shape).toEqual([8, 8]);
    expect(rowStarts(query)).toEqual([0, 2, 1, 3, 4, 6, 5, 7].map((row) => 120 + 8 * row));
    expect(Array.from(query.data.subarray(8, 16))).toEqual([136, 137, 138, 139, 140, 141, 142, 143]);
    const key = get(tensors, 'model.layers.0.self_attn.k_proj.weight'); // one kv head, raw at 184
    expect(rowStarts(key)).toEqual([0, 2, 1, 3].map((row) => 184 + 8 * row));
  });

  it('head size 8 gathers even rows, then odd rows', async () => {
    // dim 8, hidden 2, 1 layer, 1 head, 1 kv head, vocab 2 (shared), seq 1:
    // embedding 16, rms_att 8, wq 64 (starts at 24), wk 64, wv 64, wo 64, rms_ffn 8, w1 16, w2 16, w3 16, final 8, freq 8.
    const file = await writeSyntheticBin('head8.bin', [8, 2, 1, 1, 1, 2, 1], 16 + 8 + 4 * 64 + 8 + 3 * 16 + 8 + 8);
    const { config, tensors } = await readLlama2cCheckpoint(file);
    expect(rowStarts(get(tensors, 'model.layers.0.self_attn.q_proj.weight'))).toEqual([0, 2, 4, 6, 1, 3, 5, 7].map((row) => 24 + 8 * row));
    expect(config['tie_word_embeddings']).toBe(true);
    // Tied: the classifier is the embedding itself, not a copy.
    expect(get(tensors, 'lm_head.weight')).toBe(get(tensors, 'model.embed_tokens.weight'));
  });

  it('gives the same attention scores as llama2.c after RoPE', async () => {
    const file = await writeSyntheticBin('rope.bin', syntheticHeader, syntheticFloats);
    const raw = new Float32Array((await readFile(file)).buffer.slice(28));
    const { tensors } = await readLlama2cCheckpoint(file);
    expectSameAttentionScores({
      dim: 8, heads: 2, kvHeads: 1,
      rawQuery: raw.subarray(56, 120), rawKey: raw.subarray(184, 216),
      query: get(tensors, 'model.layers.0.self_attn.q_proj.weight').data,
      key: get(tensors, 'model.layers.0.self_attn.k_proj.weight').data,
    });
  });
});

describe('readLlama2cCheckpoint validation', () => {
  it('a header that disagrees with the file size names both sizes', async () => {
    const file = await writeSyntheticBin('too-long.bin', syntheticHeader, syntheticFloats, 4);
    await expectCheckpointError(readLlama2cCheckpoint(file), file, 'implies 2668 bytes', 'has 2672 bytes');
    const short = await writeSyntheticBin('too-short.bin', syntheticHeader, syntheticFloats - 1);
    await expectCheckpointError(readLlama2cCheckpoint(short), 'implies 2668 bytes', 'has 2664 bytes');
  });

  it('bad headers', async () => {
    const cases: [number[], string][] = [
      [[0, 3, 2, 2, 1, 5, 3], 'dim is 0'],
      [[8, 3, -2, 2, 1, 5, 3], 'n_layers is -2'],
      [[8, 3, 2, 3, 1, 5, 3], 'n_heads 3 does not divide dim 8'],
      [[8, 3, 2, 2, 3, 5, 3], 'n_kv_heads 3 does not divide n_heads 2'],
      [[6, 3, 2, 2, 1, 5, 3], 'head size 3 (dim / n_heads) is odd'],
    ];
    for (const [index, [header, fragment]] of cases.entries()) {
      const file = await writeSyntheticBin(`bad-header-${index}.bin`, header, 4);
      await expectCheckpointError(readLlama2cCheckpoint(file), fragment);
    }
  });

  it('a file shorter than the header, and a version 1/2 export', async () => {
    const file = path.join(dir, 'tiny.bin');
    await writeFile(file, new Uint8Array(10));
    await expectCheckpointError(readLlama2cCheckpoint(file), 'only 10 bytes', '28-byte');
    const versioned = await writeSyntheticBin('v1.bin', [0x616b3432, 1, 0, 0, 0, 0, 0], 4);
    await expectCheckpointError(readLlama2cCheckpoint(versioned), 'version 1/2', '--version 0');
  });
});

describe.skipIf(!sharedData)('readLlama2cCheckpoint on stories260K', () => {
  const modelFile = (): string => sharedDataPath('models', 'stories260K', 'stories260K.bin');

  it('matches the model card', async () => {
    const { config, tensors } = await readLlama2cCheckpoint(modelFile());
    expect(config).toEqual({
      model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 172,
      num_hidden_layers: 5, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512,
      max_position_embeddings: 512, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, hidden_act: 'silu',
    });
    // Counted the llama2.c way: the shared embedding once.
    const parameters = [...new Set(tensors.values())].reduce((sum, { data }) => sum + data.length, 0);
    expect(parameters).toBe(260_032);
    expect(get(tensors, 'model.layers.4.self_attn.q_proj.weight').shape).toEqual([64, 64]);
    expect(get(tensors, 'model.layers.4.self_attn.k_proj.weight').shape).toEqual([32, 64]);
    expect(get(tensors, 'model.layers.4.mlp.down_proj.weight').shape).toEqual([64, 172]);
    expect(get(tensors, 'lm_head.weight')).toBe(get(tensors, 'model.embed_tokens.weight'));
  });

  it('reads the bytes where run.c finds them, with RoPE-equivalent q/k', async () => {
    const raw = new Float32Array((await readFile(modelFile())).buffer.slice(28));
    const { tensors } = await readLlama2cCheckpoint(modelFile());
    const [dim, layers, vocab] = [64, 5, 512];
    const queryStart = vocab * dim + layers * dim;
    const keyStart = queryStart + layers * dim * dim;
    expect(Array.from(get(tensors, 'model.embed_tokens.weight').data.subarray(0, 4))).toEqual(Array.from(raw.subarray(0, 4)));
    // Head size 8: new row 1 of head 0 is raw row 2, new row 4 is raw row 1.
    const query = get(tensors, 'model.layers.0.self_attn.q_proj.weight').data;
    expect(Array.from(query.subarray(dim, 2 * dim))).toEqual(Array.from(raw.subarray(queryStart + 2 * dim, queryStart + 3 * dim)));
    expect(Array.from(query.subarray(4 * dim, 5 * dim))).toEqual(Array.from(raw.subarray(queryStart + dim, queryStart + 2 * dim)));
    expectSameAttentionScores({
      dim, heads: 8, kvHeads: 4,
      rawQuery: raw.subarray(queryStart, queryStart + dim * dim), rawKey: raw.subarray(keyStart, keyStart + 32 * dim),
      query, key: get(tensors, 'model.layers.0.self_attn.k_proj.weight').data,
    });
  });
});

/**
 * The conversion is right when llama2.c's interleaved RoPE on the raw weights and Hugging Face's
 * rotate_half RoPE on the converted weights give the same q·k score for every head and position pair.
 */
function expectSameAttentionScores(weights: {
  dim: number; heads: number; kvHeads: number;
  rawQuery: Float32Array; rawKey: Float32Array; query: Float32Array; key: Float32Array;
}): void {
  const { dim, heads, kvHeads } = weights;
  const headSize = dim / heads;
  const input = Array.from({ length: dim }, (_, index) => Math.cos(index * 1.7 + 0.3));
  const project = (matrix: Float32Array): number[] =>
    Array.from({ length: matrix.length / dim }, (_, row) => input.reduce((sum, x, column) => sum + (matrix[row * dim + column] as number) * x, 0));
  // run.c: pairs (2i, 2i+1) of each head turn by position / 10000^(2i / headSize).
  const interleaved = (vector: number[], position: number): number[] => {
    const out = [...vector];
    for (let index = 0; index < vector.length; index += 2) {
      const angle = position / 10000 ** ((index % headSize) / headSize);
      const [a, b] = [vector[index] as number, vector[index + 1] as number];
      out[index] = a * Math.cos(angle) - b * Math.sin(angle);
      out[index + 1] = a * Math.sin(angle) + b * Math.cos(angle);
    }
    return out;
  };
  // Hugging Face: q·cos + rotate_half(q)·sin, pairing dims i and i + headSize/2.
  const rotateHalf = (vector: number[], position: number): number[] => {
    const out = [...vector];
    const half = headSize / 2;
    for (let head = 0; head < vector.length / headSize; head += 1) {
      for (let index = 0; index < half; index += 1) {
        const angle = position / 10000 ** ((2 * index) / headSize);
        const [a, b] = [vector[head * headSize + index] as number, vector[head * headSize + index + half] as number];
        out[head * headSize + index] = a * Math.cos(angle) - b * Math.sin(angle);
        out[head * headSize + index + half] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return out;
  };
  const scores = (query: number[], key: number[]): number[] =>
    Array.from({ length: heads }, (_, head) => {
      const kvHead = Math.floor(head / (heads / kvHeads));
      let sum = 0;
      for (let index = 0; index < headSize; index += 1) sum += (query[head * headSize + index] as number) * (key[kvHead * headSize + index] as number);
      return sum;
    });
  for (const [queryPosition, keyPosition] of [[0, 0], [5, 2], [37, 11]] as const) {
    const expected = scores(interleaved(project(weights.rawQuery), queryPosition), interleaved(project(weights.rawKey), keyPosition));
    const actual = scores(rotateHalf(project(weights.query), queryPosition), rotateHalf(project(weights.key), keyPosition));
    const scale = Math.max(...expected.map(Math.abs), 1e-6);
    for (const [index, value] of actual.entries()) expect(Math.abs(value - (expected[index] as number)) / scale).toBeLessThan(1e-9);
  }
}
