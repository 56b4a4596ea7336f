import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { contrastiveTerms, createRandom, hingeTokenNll, localityKl } from '../../src/index.js';
import { useTestBackend } from '../../src/testing/index.js';

beforeAll(async () => {
  await useTestBackend();
});

const EPS = 1e-8;

function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);
const second = (row: readonly number[]): number => [...row].sort((a, b) => b - a)[1] as number;
const meanOver = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

function randomMatrix(rows: number, columns: number, seed: number, scale = 1): number[][] {
  const random = createRandom(seed);
  return Array.from({ length: rows }, () => Array.from({ length: columns }, () => (random() * 2 - 1) * scale));
}

describe('hingeTokenNll', () => {
  it('hand-computed: a position whose gold beats the runner-up by ×1.2 stops contributing', () => {
    // Position 0: probs softmax([2,1,0]) = [.665, .245, .090], gold 0 → .665 ≥ 1.2·.245: inactive.
    // Position 1: probs softmax([0,1,0]) = [.212, .576, .212], gold 0 → .212 < 1.2·.212: active.
    const logits = tf.tensor3d([[[2, 1, 0], [0, 1, 0]]]);
    const labels = tf.tensor2d([[0, 0]], [1, 2], 'int32');
    const mask = tf.tensor2d([[1, 1]]);
    const p = Math.exp(0) / (2 + Math.E);
    expect(hingeTokenNll(logits, labels, mask, 1.2, EPS).dataSync()[0]).toBeCloseTo(-Math.log(p + EPS), 5);
    // Hinge off (scale 999999, as the reference's comment says): both positions count.
    const both = (-Math.log(Math.exp(2) / (1 + Math.E + Math.exp(2)) + EPS) - Math.log(p + EPS)) / 2;
    expect(hingeTokenNll(logits, labels, mask, 999_999, EPS).dataSync()[0]).toBeCloseTo(both, 5);
    // Masked out: only position 0 is a target position, and it is inactive: 0/0 → 0.
    expect(hingeTokenNll(logits, labels, tf.tensor2d([[1, 0]]), 1.2, EPS).dataSync()[0]).toBe(0);
  });

  it('matches a float64 reference on random logits (batch 3, 4 positions, 7 classes, partial mask)', () => {
    const [batch, length, classes] = [3, 4, 7];
    const logits = Array.from({ length: batch }, (_, b) => randomMatrix(length, classes, 10 + b, 3));
    const labels = Array.from({ length: batch }, (_, b) => Array.from({ length }, (_, t) => (b * 5 + t * 3) % classes));
    const mask = Array.from({ length: batch }, (_, b) => Array.from({ length }, (_, t) => (t >= b ? 1 : 0)));
    const terms: number[] = [];
    logits.forEach((rows, b) =>
      rows.forEach((row, t) => {
        const probs = softmax(row);
        const gold = probs[labels[b]?.[t] as number] as number;
        if (mask[b]?.[t] === 1 && gold < 1.2 * second(probs)) terms.push(-Math.log(gold + EPS));
      }),
    );
    expect(terms.length).toBeGreaterThan(0);
    const value = hingeTokenNll(tf.tensor3d(logits), tf.tensor2d(labels, [batch, length], 'int32'), tf.tensor2d(mask), 1.2, EPS).dataSync()[0] as number;
    expect(value).toBeCloseTo(meanOver(terms), 4);
  });

  it('its gradient matches finite differences (the hinge set held fixed)', () => {
    const logits = tf.tensor3d([randomMatrix(3, 5, 4, 2)]);
    const labels = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const mask = tf.tensor2d([[1, 1, 1]]);
    const loss = (x: tf.Tensor): tf.Scalar => hingeTokenNll(x as tf.Tensor3D, labels, mask, 999_999, EPS);
    const gradient = tf.grad(loss)(logits).dataSync();
    const base = logits.dataSync();
    const h = 1e-2;
    for (const index of [0, 4, 7, 11, 14]) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[index] = (plus[index] as number) + h;
      minus[index] = (minus[index] as number) - h;
      const numeric = ((loss(tf.tensor3d(plus, [1, 3, 5])).dataSync()[0] as number) - (loss(tf.tensor3d(minus, [1, 3, 5])).dataSync()[0] as number)) / (2 * h);
      expect(gradient[index]).toBeCloseTo(numeric, 3);
    }
  });
});

describe('localityKl', () => {
  it('is KL(pre ‖ post) averaged over masked positions (float64 reference), and 0 when nothing changed', () => {
    const pre = [randomMatrix(3, 6, 21, 2), randomMatrix(3, 6, 22, 2)];
    const post = [randomMatrix(3, 6, 23, 2), randomMatrix(3, 6, 24, 2)];
    const mask = [[0, 1, 1], [1, 0, 0]];
    const values: number[] = [];
    pre.forEach((rows, b) =>
      rows.forEach((row, t) => {
        if (mask[b]?.[t] !== 1) return;
        const p = softmax(row);
        const q = softmax(post[b]?.[t] as number[]);
        values.push(p.reduce((sum, pi, i) => sum + pi * (Math.log(pi) - Math.log(q[i] as number)), 0));
      }),
    );
    expect(localityKl(tf.tensor3d(post), tf.tensor3d(pre), tf.tensor2d(mask)).dataSync()[0]).toBeCloseTo(meanOver(values), 5);
    expect(localityKl(tf.tensor3d(pre), tf.tensor3d(pre), tf.tensor2d(mask)).dataSync()[0]).toBeCloseTo(0, 6);
  });
});

describe('contrastiveTerms (spec §3.3)', () => {
  const dimension = 4;
  const batch = 3;
  const inputs = {
    firstQueries: randomMatrix(batch, dimension, 31, 3),
    secondQueries: randomMatrix(batch, dimension, 32, 3),
    localityQueries: randomMatrix(batch, dimension, 33, 3),
    knowledge: randomMatrix(batch, dimension, 34, 3),
    sentinel: randomMatrix(1, dimension, 35, 3),
  };
  // Rows whose sentinel entry wins by far (inactive under the hinge) beside rows where it does not.
  inputs.secondQueries[0] = (inputs.sentinel[0] as number[]).map((v) => 3 * v);
  inputs.localityQueries[1] = (inputs.sentinel[0] as number[]).map((v) => 3 * v);
  const scale = 1 / Math.sqrt(dimension);

  function reference(hinge: number): { queryToKnowledge: number; queryToSentinel: number; localityToSentinel: number } {
    const sentinel = inputs.sentinel[0] as number[];
    const candidates = [...inputs.knowledge, sentinel];
    const queryToKnowledge = meanOver(inputs.firstQueries.map((q, i) => -Math.log((softmax(candidates.map((k) => scale * dot(q, k)))[i] as number) + EPS)));
    const hinged = (rows: number[][], chosen: (row: number[], i: number) => number): number =>
      meanOver(rows.flatMap((row, i) => (chosen(row, i) < hinge * second(row) ? [-Math.log(chosen(row, i) + EPS)] : [])));
    // (b) own knowledge replaced by the sentinel on the diagonal.
    const second2 = inputs.secondQueries.map((q, i) => softmax(inputs.knowledge.map((k, j) => scale * dot(q, j === i ? sentinel : k))));
    const locality = inputs.localityQueries.map((q) => softmax(candidates.map((k) => scale * dot(q, k))));
    return {
      queryToKnowledge,
      queryToSentinel: hinged(second2, (row, i) => row[i] as number),
      localityToSentinel: hinged(locality, (row) => row[batch] as number),
    };
  }

  const run = (hinge: number) => {
    const terms = contrastiveTerms(
      {
        firstQueries: tf.tensor2d(inputs.firstQueries),
        secondQueries: tf.tensor2d(inputs.secondQueries),
        localityQueries: tf.tensor2d(inputs.localityQueries),
        knowledge: tf.tensor2d(inputs.knowledge),
        sentinel: tf.tensor2d(inputs.sentinel),
      },
      { queryKnowledgeTemperature: 1, queryPrototypeTemperature: 1, hingeScale: hinge, epsilon: EPS },
    );
    return { queryToKnowledge: terms.queryToKnowledge.dataSync()[0], queryToSentinel: terms.queryToSentinel.dataSync()[0], localityToSentinel: terms.localityToSentinel.dataSync()[0] };
  };

  it('equals a float64 reference of the three terms, with and without the ×1.2 hinge', () => {
    for (const hinge of [1.2, 999_999]) {
      const expected = reference(hinge);
      const actual = run(hinge);
      expect(actual.queryToKnowledge).toBeCloseTo(expected.queryToKnowledge, 4);
      expect(actual.queryToSentinel).toBeCloseTo(expected.queryToSentinel, 4);
      expect(actual.localityToSentinel).toBeCloseTo(expected.localityToSentinel, 4);
    }
    // The hinge matters on this data (otherwise the check above could not tell it apart).
    expect(run(1.2).queryToSentinel).not.toBeCloseTo(run(999_999).queryToSentinel as number, 3);
    expect(run(1.2).localityToSentinel).not.toBeCloseTo(run(999_999).localityToSentinel as number, 3);
  });

  it('a sentinel that already wins every locality row by far contributes nothing', () => {
    const terms = contrastiveTerms(
      {
        firstQueries: tf.tensor2d([[1, 0], [0, 1]]),
        secondQueries: tf.tensor2d([[1, 0], [0, 1]]),
        localityQueries: tf.tensor2d([[0, 10], [0, 10]]),
        knowledge: tf.tensor2d([[10, 0], [10, 0]]),
        sentinel: tf.tensor2d([[0, 10]]),
      },
      { queryKnowledgeTemperature: 1, queryPrototypeTemperature: 1, hingeScale: 1.2, epsilon: EPS },
    );
    expect(terms.localityToSentinel.dataSync()[0]).toBe(0);
  });
});
