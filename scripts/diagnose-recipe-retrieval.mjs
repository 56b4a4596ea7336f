// Where does RECIPE's retrieval go wrong at T stored facts? With the first T eval edits stored
// (skipping targets the model cannot emit), reports for each query kind (edit prompt, rephrase,
// neighbourhood) how often the knowledge sentinel fires (s_top > s_Θ + margin) and, for edit and
// rephrase queries, how often the top-1 key is the query's own fact. Encoder only, no LLM pass.
//   node scripts/diagnose-recipe-retrieval.mjs CHECKPOINT DATASET PATH [T=1000] [margin=0] [model=<checkpoint>/..]
// Prints one JSON line.
import path from 'node:path';
import { createRequire } from 'node:module';
import { selectBackend, knowledgeText, tokenizeProbe } from '../packages/core/dist/index.js';
import { RecipeEncoder } from '../packages/prompt-encoder/dist/index.js';
import { loadModel } from '../packages/llm-adapters/dist/index.js';
import { loadEditDataset } from '../packages/bench/dist/datasets/index.js';

const tf = createRequire(new URL('../packages/core/package.json', import.meta.url))('@tensorflow/tfjs');
const [checkpoint, datasetName, dataPath, countArg = '1000', marginArg = '0', modelArg] = process.argv.slice(2);
if (!checkpoint || !datasetName || !dataPath) {
  console.error('usage: diagnose-recipe-retrieval.mjs CHECKPOINT DATASET PATH [T] [margin] [model]');
  process.exit(2);
}
await selectBackend({});
const model = await loadModel(modelArg ?? path.dirname(checkpoint));
const outputIds = model.outputIds ? new Set(model.outputIds) : null;
const retriever = await RecipeEncoder.load(checkpoint);
const margin = Number(marginArg);
const all = await loadEditDataset(datasetName, dataPath, { split: 'eval' });
const requests = all
  .filter((r) => !outputIds || tokenizeProbe(model.tokenizer, r.prompt, r.targetNew).continuation.every((id) => outputIds.has(id)))
  .slice(0, Number(countArg));

const rows = (tensor) => tensor.arraySync();
const keys = rows(retriever.encodeKnowledge(requests.map((r) => knowledgeText(r.prompt, r.targetNew)), requests.map((r) => r.targetNew)).representations);
const sentinel = rows(retriever.sentinelRepresentation())[0];
// Scaled as the repository scores (s = r_q · r_k / sqrt(d_r)), so that `margin` means what the editor's sentinel-margin means.
const scale = 1 / Math.sqrt(sentinel.length);
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0) * scale;
const sentinelScores = (queries) => queries.map((q) => dot(q, sentinel));

function score(texts, owners) {
  const queries = [];
  for (let i = 0; i < texts.length; i += 256) queries.push(...rows(retriever.encodeQueries(texts.slice(i, i + 256))));
  const s0 = sentinelScores(queries);
  let fired = 0;
  let own = 0;
  let ownAndFired = 0;
  const gaps = [];
  queries.forEach((q, i) => {
    let best = -Infinity;
    let bestIndex = -1;
    keys.forEach((k, j) => {
      const s = dot(q, k);
      if (s > best) [best, bestIndex] = [s, j];
    });
    const fires = best > s0[i] + margin;
    gaps.push(best - s0[i]);
    fired += fires ? 1 : 0;
    if (owners) {
      own += bestIndex === owners[i] ? 1 : 0;
      ownAndFired += bestIndex === owners[i] && fires ? 1 : 0;
    }
  });
  const n = texts.length;
  const sorted = gaps.sort((a, b) => a - b);
  const quantile = (q) => Number(sorted[Math.min(n - 1, Math.floor(q * n))].toFixed(2));
  // s_top − s_Θ: the margin at which this kind of query would stop (or start) firing.
  const gap = { q10: quantile(0.1), q25: quantile(0.25), median: quantile(0.5), q75: quantile(0.75), q90: quantile(0.9) };
  return { queries: n, fired: fired / n, ...(owners ? { ownTop1: own / n, ownTop1AndFired: ownAndFired / n } : {}), gap };
}

const edit = score(requests.map((r) => r.prompt), requests.map((_, i) => i));
const rephrases = requests.flatMap((r, i) => r.generality.map((p) => [p.prompt, i]));
const generality = score(rephrases.map(([p]) => p), rephrases.map(([, i]) => i));
const locality = score(requests.flatMap((r) => r.locality.map((p) => p.prompt)), null);
console.log(JSON.stringify({ checkpoint, stored: requests.length, margin, edit, generality, locality }));
