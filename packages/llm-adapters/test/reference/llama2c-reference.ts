import { readFileSync } from 'node:fs';

/**
 * An independent float64 port of the forward pass of karpathy/llama2.c `run.c`, used only as a
 * numerical reference in tests. It has its own reader of the legacy (version 0) `.bin` format and
 * shares no code with the adapters: weights stay in run.c's layout (wq/wk NOT permuted), RoPE
 * rotates interleaved pairs (2i, 2i+1) exactly as run.c, and every sum runs in float64.
 */

export interface Llama2cReferenceConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
}

interface Weights {
  tokenEmbedding: Float64Array; // [vocab, dim]
  rmsAtt: Float64Array[]; // per layer [dim]
  wq: Float64Array[]; // [nHeads*headSize, dim]
  wk: Float64Array[]; // [nKvHeads*headSize, dim]
  wv: Float64Array[];
  wo: Float64Array[]; // [dim, nHeads*headSize]
  rmsFfn: Float64Array[];
  w1: Float64Array[]; // [hidden, dim]
  w2: Float64Array[]; // [dim, hidden]
  w3: Float64Array[]; // [hidden, dim]
  rmsFinal: Float64Array;
  wcls: Float64Array; // [vocab, dim]
}

const RMS_EPS = 1e-5;
const ROPE_BASE = 10000;

/** xout[i] = Σ_j w[i·n + j] · x[j]   (run.c's matmul, W is [d, n]). */
function matmul(out: Float64Array, x: Float64Array, w: Float64Array, n: number, d: number): void {
  for (let i = 0; i < d; i++) {
    let sum = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) sum += w[row + j]! * x[j]!;
    out[i] = sum;
  }
}

function rmsnorm(out: Float64Array, x: Float64Array, weight: Float64Array): void {
  const size = x.length;
  let ss = 0;
  for (let j = 0; j < size; j++) ss += x[j]! * x[j]!;
  ss = 1 / Math.sqrt(ss / size + RMS_EPS);
  for (let j = 0; j < size; j++) out[j] = weight[j]! * (ss * x[j]!);
}

function softmaxInPlace(x: Float64Array, size: number): void {
  let max = -Infinity;
  for (let i = 0; i < size; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    x[i] = Math.exp(x[i]! - max);
    sum += x[i]!;
  }
  for (let i = 0; i < size; i++) x[i] = x[i]! / sum;
}

/** First index of the maximum (run.c's `sample_argmax`). */
export function argmax64(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Difference between the largest and the second-largest value (how far from a tie argmax is). */
export function topTwoMargin(values: ArrayLike<number>): number {
  let first = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) second = v;
  }
  return first - second;
}

export class Llama2cReference {
  readonly headSize: number;
  readonly kvDim: number;
  private readonly w: Weights;
  // run.c's RunState
  private readonly x: Float64Array;
  private readonly xb: Float64Array;
  private readonly xb2: Float64Array;
  private readonly hb: Float64Array;
  private readonly hb2: Float64Array;
  private readonly q: Float64Array;
  private readonly k: Float64Array;
  private readonly v: Float64Array;
  private readonly att: Float64Array;
  private readonly keyCache: Float64Array; // [layer, seqLen, kvDim]
  private readonly valueCache: Float64Array;

  private constructor(
    readonly config: Llama2cReferenceConfig,
    weights: Weights,
  ) {
    this.w = weights;
    const { dim, hiddenDim, nHeads, nKvHeads, seqLen, nLayers } = config;
    this.headSize = dim / nHeads;
    this.kvDim = (dim * nKvHeads) / nHeads;
    this.x = new Float64Array(dim);
    this.xb = new Float64Array(dim);
    this.xb2 = new Float64Array(dim);
    this.hb = new Float64Array(hiddenDim);
    this.hb2 = new Float64Array(hiddenDim);
    this.q = new Float64Array(dim);
    this.k = new Float64Array(this.kvDim);
    this.v = new Float64Array(this.kvDim);
    this.att = new Float64Array(nHeads * seqLen);
    this.keyCache = new Float64Array(nLayers * seqLen * this.kvDim);
    this.valueCache = new Float64Array(nLayers * seqLen * this.kvDim);
  }

  /** Reads a llama2.c legacy `.bin` (run.c's `read_checkpoint` + `memory_map_weights`). */
  static fromFile(file: string): Llama2cReference {
    const bytes = readFileSync(file);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header = Array.from({ length: 7 }, (_, i) => view.getInt32(4 * i, true));
    const [dim, hiddenDim, nLayers, nHeads, nKvHeads, signedVocab, seqLen] = header as [
      number, number, number, number, number, number, number,
    ];
    const config: Llama2cReferenceConfig = {
      dim,
      hiddenDim,
      nLayers,
      nHeads,
      nKvHeads,
      vocabSize: Math.abs(signedVocab),
      seqLen,
      sharedClassifier: signedVocab > 0,
    };
    const headSize = dim / nHeads;
    let offset = 28;
    const take = (count: number): Float64Array => {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
      offset += 4 * count;
      return out;
    };
    const perLayer = (size: number): Float64Array[] => {
      const all = take(nLayers * size);
      return Array.from({ length: nLayers }, (_, l) => all.subarray(l * size, (l + 1) * size));
    };
    const vocab = config.vocabSize;
    const tokenEmbedding = take(vocab * dim);
    const rmsAtt = perLayer(dim);
    const wq = perLayer(dim * nHeads * headSize);
    const wk = perLayer(dim * nKvHeads * headSize);
    const wv = perLayer(dim * nKvHeads * headSize);
    const wo = perLayer(nHeads * headSize * dim);
    const rmsFfn = perLayer(dim);
    const w1 = perLayer(dim * hiddenDim);
    const w2 = perLayer(hiddenDim * dim);
    const w3 = perLayer(dim * hiddenDim);
    const rmsFinal = take(dim);
    offset += 4 * ((seqLen * headSize) / 2); // freq_cis_real
    offset += 4 * ((seqLen * headSize) / 2); // freq_cis_imag
    const wcls = config.sharedClassifier ? tokenEmbedding : take(vocab * dim);
    if (offset !== bytes.byteLength) {
      throw new Error(`llama2c reference reader: consumed ${offset} bytes of ${bytes.byteLength} in ${file}`);
    }
    return new Llama2cReference(config, { tokenEmbedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, wcls });
  }

  /** run.c's `forward(transformer, token, pos)`: fills the KV cache at `pos`, returns logits (a copy). */
  forward(token: number, pos: number): Float64Array {
    const { dim, hiddenDim, nLayers, nHeads, nKvHeads, seqLen, vocabSize } = this.config;
    const { headSize, kvDim, x, xb, xb2, hb, hb2, q, att, w } = this;
    const kvMul = nHeads / nKvHeads;
    if (pos >= seqLen) throw new Error(`position ${pos} beyond seq_len ${seqLen}`);
    x.set(w.tokenEmbedding.subarray(token * dim, (token + 1) * dim));

    for (let l = 0; l < nLayers; l++) {
      rmsnorm(xb, x, w.rmsAtt[l]!);
      const loff = l * seqLen * kvDim;
      const k = this.keyCache.subarray(loff + pos * kvDim, loff + (pos + 1) * kvDim);
      const v = this.valueCache.subarray(loff + pos * kvDim, loff + (pos + 1) * kvDim);
      matmul(q, xb, w.wq[l]!, dim, dim);
      matmul(k, xb, w.wk[l]!, dim, kvDim);
      matmul(v, xb, w.wv[l]!, dim, kvDim);

      // RoPE: rotate interleaved pairs (i, i+1) of every head, frequency from i % headSize.
      for (let i = 0; i < dim; i += 2) {
        const headDim = i % headSize;
        const freq = 1 / Math.pow(ROPE_BASE, headDim / headSize);
        const val = pos * freq;
        const fcr = Math.cos(val);
        const fci = Math.sin(val);
        const rotn = i < kvDim ? 2 : 1;
        for (let which = 0; which < rotn; which++) {
          const vec = which === 0 ? q : k;
          const v0 = vec[i]!;
          const v1 = vec[i + 1]!;
          vec[i] = v0 * fcr - v1 * fci;
          vec[i + 1] = v0 * fci + v1 * fcr;
        }
      }

      // Multi-head attention over positions 0..pos.
      for (let h = 0; h < nHeads; h++) {
        const qh = h * headSize;
        const attOff = h * seqLen;
        const kvHead = Math.floor(h / kvMul);
        for (let t = 0; t <= pos; t++) {
          const kOff = loff + t * kvDim + kvHead * headSize;
          let score = 0;
          for (let i = 0; i < headSize; i++) score += q[qh + i]! * this.keyCache[kOff + i]!;
          att[attOff + t] = score / Math.sqrt(headSize);
        }
        const scores = att.subarray(attOff, attOff + pos + 1);
        softmaxInPlace(scores, pos + 1);
        for (let i = 0; i < headSize; i++) xb[qh + i] = 0;
        for (let t = 0; t <= pos; t++) {
          const vOff = loff + t * kvDim + kvHead * headSize;
          const a = scores[t]!;
          for (let i = 0; i < headSize; i++) xb[qh + i] = xb[qh + i]! + a * this.valueCache[vOff + i]!;
        }
      }

      matmul(xb2, xb, w.wo[l]!, dim, dim);
      for (let i = 0; i < dim; i++) x[i] = x[i]! + xb2[i]!;

      rmsnorm(xb, x, w.rmsFfn[l]!);
      matmul(hb, xb, w.w1[l]!, dim, hiddenDim);
      matmul(hb2, xb, w.w3[l]!, dim, hiddenDim);
      for (let i = 0; i < hiddenDim; i++) {
        let val = hb[i]!;
        val *= 1 / (1 + Math.exp(-val)); // SiLU
        hb[i] = val * hb2[i]!;
      }
      matmul(xb, hb, w.w2[l]!, hiddenDim, dim);
      for (let i = 0; i < dim; i++) x[i] = x[i]! + xb[i]!;
    }

    rmsnorm(x, x, w.rmsFinal);
    const logits = new Float64Array(vocabSize);
    matmul(logits, x, w.wcls, dim, vocabSize);
    return logits;
  }

  /** Logits at every position of `ids` (fed one token at a time through the KV cache). */
  logits(ids: readonly number[]): Float64Array[] {
    return ids.map((id, pos) => this.forward(id, pos));
  }

  /**
   * Greedy decoding after `promptIds`: up to `steps` new ids, stopping (excluded) at any of `stopIds`
   * or when the context is full. `margins[i]` is the top-1/top-2 gap of the logits that chose ids[i].
   */
  greedy(
    promptIds: readonly number[],
    steps: number,
    options: { stopIds?: readonly number[] } = {},
  ): { ids: number[]; margins: number[] } {
    const stop = new Set(options.stopIds ?? []);
    let logits: Float64Array = new Float64Array(0);
    promptIds.forEach((id, pos) => {
      logits = this.forward(id, pos);
    });
    const ids: number[] = [];
    const margins: number[] = [];
    let pos = promptIds.length;
    for (let step = 0; step < steps; step++) {
      const next = argmax64(logits);
      if (stop.has(next)) break;
      ids.push(next);
      margins.push(topTwoMargin(logits));
      if (step === steps - 1 || pos >= this.config.seqLen) break;
      logits = this.forward(next, pos);
      pos += 1;
    }
    return { ids, margins };
  }
}
