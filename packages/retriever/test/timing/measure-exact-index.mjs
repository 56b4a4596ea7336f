// Timing, not a test (vitest only runs *.test.ts): `npx tsc -b && node test/timing/measure-exact-index.mjs [rows] [dimension] [queries]`.
// Plain JS on the built package so it runs with no TS loader.
import { ExactIndex, KnowledgeRepository } from '../../dist/index.js';

const rows = Number(process.argv[2] ?? 100_000);
const dimension = Number(process.argv[3] ?? 256);
const queries = Number(process.argv[4] ?? 1000);

let state = 12345;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function vector() {
  const v = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) v[i] = random() - 0.5;
  return v;
}

const vectors = Array.from({ length: rows }, vector);
const queryVectors = Array.from({ length: queries }, vector);

const index = new ExactIndex(dimension);
let start = performance.now();
for (let i = 0; i < rows; i++) await index.add([{ id: `e${i}`, vector: vectors[i] }]);
const addMs = performance.now() - start;
console.log(`add ${rows} × ${dimension} one at a time: ${addMs.toFixed(0)} ms (${((addMs * 1000) / rows).toFixed(2)} µs/add), capacity ${index.capacity}`);

for (const k of [1, 10]) {
  await index.search(queryVectors[0], k); // warm-up (JIT)
  start = performance.now();
  for (const query of queryVectors) await index.search(query, k);
  const ms = (performance.now() - start) / queries;
  console.log(`ExactIndex.search top-${k}: ${ms.toFixed(2)} ms/query over ${queries} queries (${((rows * dimension) / ms / 1e6).toFixed(2)} G mult-add/s)`);
}

const repository = new KnowledgeRepository({ dimension, promptShape: [3, 4], encoderFingerprint: 'timing', index: new ExactIndex(dimension) });
repository.setSentinel(vector());
const request = { id: 'x', prompt: 'p', subject: 's', targetNew: 't', generality: [], locality: [] };
const prompt = new Float32Array(12);
for (let i = 0; i < rows; i++) await repository.add(`e${i}`, vectors[i], { prompt, request });
start = performance.now();
let retrieved = 0;
for (const query of queryVectors) retrieved += (await repository.search(query)).hits.length;
console.log(`KnowledgeRepository.search top-1 (with sentinel gate): ${((performance.now() - start) / queries).toFixed(2)} ms/query, ${retrieved}/${queries} retrieved`);
