import * as tf from '@tensorflow/tfjs';

/** 32-bit FNV-1a over UTF-16 code units: a stable hash for out-of-vocabulary buckets. */
export function fnv1a(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}

/**
 * fastText-style subword units of a word: every character n-gram of `<word>` with min ≤ n ≤ max
 * (the brackets mark the word's start and end), plus `<word>` itself. Made-up names ("Dofu
 * Trasash") share their syllables with other names, so their vectors are learned from those.
 */
export function charNgrams(word: string, min: number, max: number): string[] {
  const marked = `<${word}>`;
  const grams = new Set<string>([marked]);
  for (let n = min; n <= max; n++) {
    for (let start = 0; start + n <= marked.length; start++) grams.add(marked.slice(start, start + n));
  }
  return [...grams];
}

/** Bucket rows of a word's n-grams in a table of `buckets` rows. Distinct n-grams may share a bucket. */
export function charNgramBuckets(word: string, min: number, max: number, buckets: number): number[] {
  return charNgrams(word, min, max).map((gram) => fnv1a(gram) % buckets);
}

/**
 * Σ table[g] / sqrt(count) over each position's n-gram buckets (zero for positions without any),
 * as one [batch, seq, dims] tensor: gathered rows, weighted, summed per position with
 * unsortedSegmentSum (linear in the number of n-grams; its gradient is a gather).
 */
export function charNgramEmbeddings(table: tf.Tensor2D, ngrams: readonly (readonly (readonly number[])[])[], seq: number): tf.Tensor3D {
  const batch = ngrams.length;
  const dims = table.shape[1];
  const rows: number[] = [];
  const positions: number[] = [];
  const weights: number[] = [];
  ngrams.forEach((row, b) =>
    row.forEach((buckets, t) => {
      for (const bucket of buckets) {
        rows.push(bucket);
        positions.push(b * seq + t);
        weights.push(1 / Math.sqrt(buckets.length));
      }
    }),
  );
  return tf.tidy(() => {
    if (rows.length === 0) return tf.zeros([batch, seq, dims]) as tf.Tensor3D;
    const gathered = tf.mul(tf.gather(table, tf.tensor1d(rows, 'int32')), tf.tensor2d(weights, [rows.length, 1])); // [M, dims]
    const summed = tf.unsortedSegmentSum(gathered, tf.tensor1d(positions, 'int32'), batch * seq); // [batch·seq, dims]
    return tf.reshape(summed, [batch, seq, dims]) as tf.Tensor3D;
  });
}
