/**
 * An independent float64 BERT/RoBERTa forward in plain arrays, written from the Hugging Face
 * modelling code (not from our tfjs code), for golden comparisons on tiny models.
 * Weights are in PyTorch layout: linear [out, in].
 */
export interface ReferenceWeights {
  get(name: string): { shape: number[]; data: ArrayLike<number> };
}

export interface ReferenceConfig {
  modelType: 'bert' | 'roberta';
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  layerNormEpsilon: number;
  padTokenId: number;
}

type Matrix = number[][]; // [seq][width]

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is only 1.5e-7 accurate; use a series/continued fraction to ~1e-15.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    const value = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -value : value;
  }
  // erfc continued fraction for |x| >= 3.
  let fraction = 0;
  for (let n = 60; n >= 1; n--) fraction = (n / 2) / (t + fraction);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + fraction);
  return x < 0 ? erfc - 1 : 1 - erfc;
}

function linear(x: Matrix, weight: { shape: number[]; data: ArrayLike<number> }, bias: { data: ArrayLike<number> }): Matrix {
  const [out, input] = weight.shape as [number, number];
  return x.map((row) => {
    const result = new Array<number>(out);
    for (let o = 0; o < out; o++) {
      let sum = bias.data[o] as number;
      for (let i = 0; i < input; i++) sum += (weight.data[o * input + i] as number) * (row[i] as number);
      result[o] = sum;
    }
    return result;
  });
}

function layerNorm(x: Matrix, weight: ArrayLike<number>, bias: ArrayLike<number>, epsilon: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + epsilon)) * (weight[i] as number) + (bias[i] as number));
  });
}

/** Runs the encoder stack on one sequence's embeddings. Returns last hidden states and pooler output. */
export function referenceEncoderStack(
  embeddings: Matrix,
  mask: readonly number[],
  weights: ReferenceWeights,
  config: ReferenceConfig,
  prefix = '',
): { states: Matrix; pooled: number[] } {
  const w = (name: string): { shape: number[]; data: ArrayLike<number> } => weights.get(prefix + name);
  const headDim = config.hiddenSize / config.numHeads;
  let hidden = embeddings;
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `encoder.layer.${layer}.`;
    const q = linear(hidden, w(`${p}attention.self.query.weight`), w(`${p}attention.self.query.bias`));
    const k = linear(hidden, w(`${p}attention.self.key.weight`), w(`${p}attention.self.key.bias`));
    const v = linear(hidden, w(`${p}attention.self.value.weight`), w(`${p}attention.self.value.bias`));
    const context: Matrix = hidden.map(() => new Array<number>(config.hiddenSize).fill(0));
    for (let h = 0; h < config.numHeads; h++) {
      for (let i = 0; i < hidden.length; i++) {
        const scores = hidden.map((_, j) => {
          if (!mask[j]) return Number.NEGATIVE_INFINITY;
          let s = 0;
          for (let d = 0; d < headDim; d++) s += (q[i]![h * headDim + d] as number) * (k[j]![h * headDim + d] as number);
          return s / Math.sqrt(headDim);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j < hidden.length; j++) {
          for (let d = 0; d < headDim; d++) context[i]![h * headDim + d]! += ((exps[j] as number) / total) * (v[j]![h * headDim + d] as number);
        }
      }
    }
    const attentionOut = linear(context, w(`${p}attention.output.dense.weight`), w(`${p}attention.output.dense.bias`));
    const afterAttention = layerNorm(
      hidden.map((row, i) => row.map((x, d) => x + (attentionOut[i]![d] as number))),
      w(`${p}attention.output.LayerNorm.weight`).data,
      w(`${p}attention.output.LayerNorm.bias`).data,
      config.layerNormEpsilon,
    );
    const intermediate = linear(afterAttention, w(`${p}intermediate.dense.weight`), w(`${p}intermediate.dense.bias`)).map((row) =>
      row.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2))),
    );
    const output = linear(intermediate, w(`${p}output.dense.weight`), w(`${p}output.dense.bias`));
    hidden = layerNorm(
      afterAttention.map((row, i) => row.map((x, d) => x + (output[i]![d] as number))),
      w(`${p}output.LayerNorm.weight`).data,
      w(`${p}output.LayerNorm.bias`).data,
      config.layerNormEpsilon,
    );
  }
  const pooled = linear([hidden[0] as number[]], w('pooler.dense.weight'), w('pooler.dense.bias'))[0]!.map(Math.tanh);
  return { states: hidden, pooled };
}

/** Embedding module for one sequence of ids (token type 0 everywhere). */
export function referenceEmbeddings(ids: readonly number[], weights: ReferenceWeights, config: ReferenceConfig, prefix = ''): Matrix {
  const w = (name: string): { shape: number[]; data: ArrayLike<number> } => weights.get(prefix + name);
  const width = config.hiddenSize;
  let count = 0;
  const positions = ids.map((id, t) =>
    config.modelType === 'roberta' ? (id === config.padTokenId ? config.padTokenId : config.padTokenId + 1 + count++) : t,
  );
  const row = (name: string, index: number): number[] => Array.from({ length: width }, (_, d) => w(name).data[index * width + d] as number);
  const summed = ids.map((id, t) => {
    const word = row('embeddings.word_embeddings.weight', id);
    const position = row('embeddings.position_embeddings.weight', positions[t] as number);
    const type = row('embeddings.token_type_embeddings.weight', 0);
    return word.map((x, d) => x + (position[d] as number) + (type[d] as number));
  });
  return layerNorm(summed, w('embeddings.LayerNorm.weight').data, w('embeddings.LayerNorm.bias').data, config.layerNormEpsilon);
}
