import { argmax64, topTwoMargin } from './llama2c-reference.js';
import type { PlainTensor } from './safetensors-mini.js';

/**
 * Float64 references of Hugging Face transformers' LlamaForCausalLM and GPTJForCausalLM forward
 * passes, written from the semantics of `modeling_llama.py` / `modeling_gptj.py` with plain loops.
 * They read a config.json object and weights in PyTorch layout (linear weights [out, in],
 * y = W·x), run one unpadded sequence at a time without a KV cache (positions 0…n−1, causal
 * attention), and share no code with the adapters.
 */

type Config = Record<string, unknown>;
type Matrix = { rows: number; cols: number; data: Float64Array };

function num(config: Config, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number') throw new Error(`reference: config.${key} missing`);
  return value;
}

function matrix(tensors: Map<string, PlainTensor>, name: string, rows: number, cols: number): Matrix {
  const t = tensors.get(name);
  if (!t) throw new Error(`reference: weight ${name} missing`);
  if (t.shape.join() !== `${rows},${cols}`) throw new Error(`reference: ${name} is [${t.shape}], expected [${rows},${cols}]`);
  return { rows, cols, data: Float64Array.from(t.data) };
}

function vector(tensors: Map<string, PlainTensor>, name: string, size: number): Float64Array {
  const t = tensors.get(name);
  if (!t) throw new Error(`reference: weight ${name} missing`);
  if (t.shape.join() !== `${size}`) throw new Error(`reference: ${name} is [${t.shape}], expected [${size}]`);
  return Float64Array.from(t.data);
}

/** y = W·x (+ b), W in PyTorch [out, in] layout. */
function linear(w: Matrix, x: Float64Array, bias?: Float64Array): Float64Array {
  const y = new Float64Array(w.rows);
  for (let o = 0; o < w.rows; o++) {
    let sum = bias ? bias[o]! : 0;
    const row = o * w.cols;
    for (let i = 0; i < w.cols; i++) sum += w.data[row + i]! * x[i]!;
    y[o] = sum;
  }
  return y;
}

function rmsNorm(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const scale = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => weight[i]! * (v * scale));
}

function layerNorm(x: Float64Array, weight: Float64Array, bias: Float64Array, eps: number): Float64Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) * (v - mean);
  variance /= x.length; // biased, as torch.nn.LayerNorm
  const scale = 1 / Math.sqrt(variance + eps);
  return x.map((v, i) => (v - mean) * scale * weight[i]! + bias[i]!);
}

const silu = (v: number): number => v / (1 + Math.exp(-v));
const geluNew = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

/**
 * Causal softmax attention of one sequence. q[t]: [numHeads*headDim], k[t]/v[t]: [kvHeads*headDim];
 * query head h reads kv head floor(h / (numHeads / kvHeads)) (HF repeat_kv). Returns [t][numHeads*headDim].
 */
function causalAttention(
  q: Float64Array[],
  k: Float64Array[],
  v: Float64Array[],
  numHeads: number,
  kvHeads: number,
  headDim: number,
): Float64Array[] {
  const groups = numHeads / kvHeads;
  const scale = 1 / Math.sqrt(headDim);
  return q.map((qt, t) => {
    const out = new Float64Array(numHeads * headDim);
    for (let h = 0; h < numHeads; h++) {
      const kvh = Math.floor(h / groups);
      const scores = new Float64Array(t + 1);
      let max = -Infinity;
      for (let s = 0; s <= t; s++) {
        let dot = 0;
        for (let i = 0; i < headDim; i++) dot += qt[h * headDim + i]! * k[s]![kvh * headDim + i]!;
        scores[s] = dot * scale;
        max = Math.max(max, scores[s]!);
      }
      let total = 0;
      for (let s = 0; s <= t; s++) {
        scores[s] = Math.exp(scores[s]! - max);
        total += scores[s]!;
      }
      for (let s = 0; s <= t; s++) {
        const a = scores[s]! / total;
        for (let i = 0; i < headDim; i++) out[h * headDim + i] = out[h * headDim + i]! + a * v[s]![kvh * headDim + i]!;
      }
    }
    return out;
  });
}

export abstract class HfReference {
  abstract readonly vocabSize: number;
  /** Final hidden states (after the final norm) of every position. */
  protected abstract finalHidden(ids: readonly number[]): Float64Array[];
  protected abstract project(hidden: Float64Array): Float64Array;

  /** Logits for every position of one unpadded sequence. */
  logits(ids: readonly number[]): Float64Array[] {
    return this.finalHidden(ids).map((h) => this.project(h));
  }

  /** Greedy decoding by re-running the whole sequence each step (no cache). */
  greedy(promptIds: readonly number[], steps: number, options: { stopIds?: readonly number[] } = {}): { ids: number[]; margins: number[] } {
    const stop = new Set(options.stopIds ?? []);
    const sequence = [...promptIds];
    const ids: number[] = [];
    const margins: number[] = [];
    for (let step = 0; step < steps; step++) {
      const hidden = this.finalHidden(sequence);
      const logits = this.project(hidden[hidden.length - 1]!);
      const next = argmax64(logits);
      if (stop.has(next)) break;
      ids.push(next);
      margins.push(topTwoMargin(logits));
      sequence.push(next);
    }
    return { ids, margins };
  }
}

interface LlamaLayer {
  inputNorm: Float64Array;
  q: Matrix;
  k: Matrix;
  v: Matrix;
  o: Matrix;
  postNorm: Float64Array;
  gate: Matrix;
  up: Matrix;
  down: Matrix;
}

/** LlamaForCausalLM: pre-RMSNorm, rotate_half RoPE with rope_theta, GQA, SwiGLU, tied or separate lm_head. */
export class HfLlamaReference extends HfReference {
  readonly vocabSize: number;
  private readonly hidden: number;
  private readonly numHeads: number;
  private readonly kvHeads: number;
  private readonly headDim: number;
  private readonly eps: number;
  private readonly invFreq: Float64Array;
  private readonly embed: Matrix;
  private readonly layers: LlamaLayer[];
  private readonly norm: Float64Array;
  private readonly lmHead: Matrix;

  /** `overrides` replaces config fields (e.g. a wrong rope_theta, to show a test is sensitive to it). */
  constructor(config: Config, tensors: Map<string, PlainTensor>, overrides: Config = {}) {
    super();
    const c = { ...config, ...overrides };
    const h = (this.hidden = num(c, 'hidden_size'));
    this.numHeads = num(c, 'num_attention_heads');
    this.kvHeads = num(c, 'num_key_value_heads', this.numHeads);
    this.headDim = num(c, 'head_dim', h / this.numHeads);
    this.eps = num(c, 'rms_norm_eps', 1e-6);
    const theta = num(c, 'rope_theta', 10000);
    const m = num(c, 'intermediate_size');
    const vocab = (this.vocabSize = num(c, 'vocab_size'));
    // inv_freq = 1 / theta^(arange(0, dim, 2) / dim)
    this.invFreq = Float64Array.from({ length: this.headDim / 2 }, (_, i) => 1 / Math.pow(theta, (2 * i) / this.headDim));
    this.embed = matrix(tensors, 'model.embed_tokens.weight', vocab, h);
    const qd = this.numHeads * this.headDim;
    const kvd = this.kvHeads * this.headDim;
    this.layers = Array.from({ length: num(c, 'num_hidden_layers') }, (_, l) => {
      const p = `model.layers.${l}.`;
      return {
        inputNorm: vector(tensors, `${p}input_layernorm.weight`, h),
        q: matrix(tensors, `${p}self_attn.q_proj.weight`, qd, h),
        k: matrix(tensors, `${p}self_attn.k_proj.weight`, kvd, h),
        v: matrix(tensors, `${p}self_attn.v_proj.weight`, kvd, h),
        o: matrix(tensors, `${p}self_attn.o_proj.weight`, h, qd),
        postNorm: vector(tensors, `${p}post_attention_layernorm.weight`, h),
        gate: matrix(tensors, `${p}mlp.gate_proj.weight`, m, h),
        up: matrix(tensors, `${p}mlp.up_proj.weight`, m, h),
        down: matrix(tensors, `${p}mlp.down_proj.weight`, h, m),
      };
    });
    this.norm = vector(tensors, 'model.norm.weight', h);
    this.lmHead = c['tie_word_embeddings'] === true ? this.embed : matrix(tensors, 'lm_head.weight', vocab, h);
  }

  /** q·cos + rotate_half(q)·sin per head, with cos/sin = cat(freqs, freqs): dim i pairs with i + d/2. */
  private rotateHalf(x: Float64Array, heads: number, pos: number): Float64Array {
    const d = this.headDim;
    const half = d / 2;
    const out = new Float64Array(x.length);
    for (let hd = 0; hd < heads; hd++) {
      const base = hd * d;
      for (let i = 0; i < half; i++) {
        const angle = pos * this.invFreq[i]!;
        const cos = Math.cos(angle);
        const sin = Math.sin(angle);
        const x1 = x[base + i]!;
        const x2 = x[base + i + half]!;
        out[base + i] = x1 * cos - x2 * sin; // rotate_half = cat(-x2, x1)
        out[base + i + half] = x2 * cos + x1 * sin;
      }
    }
    return out;
  }

  protected finalHidden(ids: readonly number[]): Float64Array[] {
    const h = this.hidden;
    let xs = ids.map((id) => this.embed.data.slice(id * h, (id + 1) * h));
    for (const layer of this.layers) {
      const normed = xs.map((x) => rmsNorm(x, layer.inputNorm, this.eps));
      const q = normed.map((x, pos) => this.rotateHalf(linear(layer.q, x), this.numHeads, pos));
      const k = normed.map((x, pos) => this.rotateHalf(linear(layer.k, x), this.kvHeads, pos));
      const v = normed.map((x) => linear(layer.v, x));
      const attended = causalAttention(q, k, v, this.numHeads, this.kvHeads, this.headDim);
      xs = xs.map((x, t) => {
        const o = linear(layer.o, attended[t]!);
        const afterAttention = x.map((value, i) => value + o[i]!);
        const mlpIn = rmsNorm(afterAttention, layer.postNorm, this.eps);
        const gate = linear(layer.gate, mlpIn);
        const up = linear(layer.up, mlpIn);
        const down = linear(layer.down, gate.map((g, i) => silu(g) * up[i]!));
        return afterAttention.map((value, i) => value + down[i]!);
      });
    }
    return xs.map((x) => rmsNorm(x, this.norm, this.eps));
  }

  protected project(hidden: Float64Array): Float64Array {
    return linear(this.lmHead, hidden);
  }
}

interface GptjLayer {
  lnWeight: Float64Array;
  lnBias: Float64Array;
  q: Matrix;
  k: Matrix;
  v: Matrix;
  out: Matrix;
  fcIn: Matrix;
  fcInBias: Float64Array;
  fcOut: Matrix;
  fcOutBias: Float64Array;
}

/**
 * GPTJForCausalLM: x + attn(ln_1(x)) + mlp(ln_1(x)); rotary on the first rotary_dim dims of each head,
 * rotate_every_two layout with repeat_interleave'd sin/cos (base 10000, frequencies over rotary_dim);
 * no q/k/v/out biases; gelu_new MLP with biases; ln_f; lm_head with bias.
 */
export class HfGptjReference extends HfReference {
  readonly vocabSize: number;
  private readonly hidden: number;
  private readonly numHeads: number;
  private readonly headDim: number;
  private readonly rotaryDim: number;
  private readonly eps: number;
  private readonly invFreq: Float64Array;
  private readonly wte: Matrix;
  private readonly layers: GptjLayer[];
  private readonly lnF: { weight: Float64Array; bias: Float64Array };
  private readonly lmHead: Matrix;
  private readonly lmHeadBias: Float64Array;

  constructor(config: Config, tensors: Map<string, PlainTensor>, overrides: Config = {}) {
    super();
    const c = { ...config, ...overrides };
    const h = (this.hidden = num(c, 'n_embd'));
    this.numHeads = num(c, 'n_head');
    this.headDim = h / this.numHeads;
    this.rotaryDim = num(c, 'rotary_dim');
    this.eps = num(c, 'layer_norm_epsilon', 1e-5);
    const m = num(c, 'n_inner', 4 * h);
    const vocab = (this.vocabSize = num(c, 'vocab_size'));
    // create_sinusoidal_positions(n_positions, rotary_dim): inv_freq = 1 / 10000^(arange(0, rotary_dim, 2) / rotary_dim)
    this.invFreq = Float64Array.from({ length: this.rotaryDim / 2 }, (_, i) => 1 / Math.pow(10000, (2 * i) / this.rotaryDim));
    this.wte = matrix(tensors, 'transformer.wte.weight', vocab, h);
    this.layers = Array.from({ length: num(c, 'n_layer') }, (_, l) => {
      const p = `transformer.h.${l}.`;
      return {
        lnWeight: vector(tensors, `${p}ln_1.weight`, h),
        lnBias: vector(tensors, `${p}ln_1.bias`, h),
        q: matrix(tensors, `${p}attn.q_proj.weight`, h, h),
        k: matrix(tensors, `${p}attn.k_proj.weight`, h, h),
        v: matrix(tensors, `${p}attn.v_proj.weight`, h, h),
        out: matrix(tensors, `${p}attn.out_proj.weight`, h, h),
        fcIn: matrix(tensors, `${p}mlp.fc_in.weight`, m, h),
        fcInBias: vector(tensors, `${p}mlp.fc_in.bias`, m),
        fcOut: matrix(tensors, `${p}mlp.fc_out.weight`, h, m),
        fcOutBias: vector(tensors, `${p}mlp.fc_out.bias`, h),
      };
    });
    this.lnF = { weight: vector(tensors, 'transformer.ln_f.weight', h), bias: vector(tensors, 'transformer.ln_f.bias', h) };
    this.lmHead = c['tie_word_embeddings'] === true ? this.wte : matrix(tensors, 'lm_head.weight', vocab, h);
    this.lmHeadBias = vector(tensors, 'lm_head.bias', vocab);
  }

  /**
   * apply_rotary_pos_emb on x[..., :rotary_dim]: x·cos + rotate_every_two(x)·sin with
   * sin/cos repeat_interleave'd ×2, i.e. pair (2i, 2i+1) rotates by angle pos·inv_freq[i];
   * rotate_every_two(x)[2i] = −x[2i+1], [2i+1] = x[2i]. Dims ≥ rotary_dim pass through.
   */
  private rotateEveryTwo(x: Float64Array, pos: number): Float64Array {
    const out = Float64Array.from(x);
    for (let hd = 0; hd < this.numHeads; hd++) {
      const base = hd * this.headDim;
      for (let i = 0; i < this.rotaryDim / 2; i++) {
        const angle = pos * this.invFreq[i]!;
        const cos = Math.cos(angle);
        const sin = Math.sin(angle);
        const a = x[base + 2 * i]!;
        const b = x[base + 2 * i + 1]!;
        out[base + 2 * i] = a * cos - b * sin;
        out[base + 2 * i + 1] = b * cos + a * sin;
      }
    }
    return out;
  }

  protected finalHidden(ids: readonly number[]): Float64Array[] {
    const h = this.hidden;
    let xs = ids.map((id) => this.wte.data.slice(id * h, (id + 1) * h));
    for (const layer of this.layers) {
      const normed = xs.map((x) => layerNorm(x, layer.lnWeight, layer.lnBias, this.eps));
      const q = normed.map((x, pos) => this.rotateEveryTwo(linear(layer.q, x), pos));
      const k = normed.map((x, pos) => this.rotateEveryTwo(linear(layer.k, x), pos));
      const v = normed.map((x) => linear(layer.v, x));
      const attended = causalAttention(q, k, v, this.numHeads, this.numHeads, this.headDim);
      xs = xs.map((x, t) => {
        const attention = linear(layer.out, attended[t]!);
        const inner = linear(layer.fcIn, normed[t]!, layer.fcInBias).map(geluNew);
        const mlp = linear(layer.fcOut, inner, layer.fcOutBias);
        return x.map((value, i) => value + attention[i]! + mlp[i]!);
      });
    }
    return xs.map((x) => layerNorm(x, this.lnF.weight, this.lnF.bias, this.eps));
  }

  protected project(hidden: Float64Array): Float64Array {
    return linear(this.lmHead, hidden, this.lmHeadBias);
  }
}
