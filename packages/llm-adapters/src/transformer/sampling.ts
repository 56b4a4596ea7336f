export { createRandom } from '@recipe-kit/core';

/** Index of the largest value; the first one on ties (as torch.argmax and llama2.c). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** Samples from softmax(logits / temperature), restricted to the smallest set with mass ≥ topP. */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topP: number, random: () => number): number {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, (logits[i] as number) / temperature);
  const probabilities = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.exp((logits[i] as number) / temperature - max);
    probabilities[i] = p;
    total += p;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  if (topP < 1) order.sort((a, b) => (probabilities[b] as number) - (probabilities[a] as number));
  let kept = n;
  if (topP < 1) {
    let cumulative = 0;
    for (let i = 0; i < n; i++) {
      cumulative += (probabilities[order[i] as number] as number) / total;
      if (cumulative >= topP) {
        kept = i + 1;
        break;
      }
    }
  }
  let keptMass = 0;
  for (let i = 0; i < kept; i++) keptMass += probabilities[order[i] as number] as number;
  let threshold = random() * keptMass;
  for (let i = 0; i < kept; i++) {
    const id = order[i] as number;
    threshold -= probabilities[id] as number;
    if (threshold <= 0) return id;
  }
  return order[kept - 1] as number;
}
