// How far can a continuous prefix of l vectors steer a frozen model to an edit's new target?
// Optimises a free prefix per edit (no encoder, no retrieval) and reports token accuracy on the
// edit prompt and on its rephrases with that same prefix. This is the ceiling RECIPE's prompt
// encoder can reach on the model (issue 5's "prompt capacity" diagnosis):
//   node scripts/diagnose-prefix-capacity.mjs MODEL DATASET PATH [cases=40] [length=3] [steps=60] [lr=0.05]
//   e.g. node scripts/diagnose-prefix-capacity.mjs models/counterfact-llama counterfact ../shared/data/editing/counterfact
// Prints one line per case and a summary line (JSON) at the end.
import { createRequire } from 'node:module';
import { selectBackend, tokenizeProbe } from '../packages/core/dist/index.js';
import { loadModel } from '../packages/llm-adapters/dist/index.js';
import { loadEditDataset } from '../packages/bench/dist/datasets/index.js';

const tf = createRequire(new URL('../packages/core/package.json', import.meta.url))('@tensorflow/tfjs');
const [modelDir, datasetName, dataPath, casesArg = '40', lengthArg = '3', stepsArg = '60', lrArg = '0.05'] = process.argv.slice(2);
if (!modelDir || !datasetName || !dataPath) {
  console.error('usage: diagnose-prefix-capacity.mjs MODEL DATASET PATH [cases] [length] [steps] [lr]');
  process.exit(2);
}
const [cases, length, steps, lr] = [Number(casesArg), Number(lengthArg), Number(stepsArg), Number(lrArg)];
await selectBackend({});
const model = await loadModel(modelDir);
const tokenizer = model.tokenizer;
const hidden = model.dimensions.hiddenSize;
const outputIds = model.outputIds ? new Set(model.outputIds) : null;
const requests = await loadEditDataset(datasetName, dataPath, { split: 'eval' });

/** ids [1, n] of context + continuation, and the positions whose next token is the continuation. */
function probeTensors(prompt, target) {
  const q = tokenizeProbe(tokenizer, prompt, target);
  const ids = [...q.context, ...q.continuation];
  const positions = q.continuation.map((_, i) => q.context.length - 1 + i);
  return { ids, positions, labels: q.continuation };
}

function accuracy(prefix, probe) {
  return tf.tidy(() => {
    const logits = model.forward({ ids: tf.tensor2d([probe.ids], [1, probe.ids.length], 'int32'), prefix }).logits; // [1, n, V]
    const predicted = tf.argMax(logits, 2).dataSync();
    return probe.labels.filter((label, i) => predicted[probe.positions[i]] === label).length / probe.labels.length;
  });
}

function meanNll(prefix, probe) {
  const logits = model.forward({ ids: tf.tensor2d([probe.ids], [1, probe.ids.length], 'int32'), prefix }).logits;
  const logProbabilities = tf.logSoftmax(tf.squeeze(logits, [0])); // [n, V]
  // One-hot selection (tfjs has no gradient for gatherND): rows = positions, columns = labels.
  const n = probe.ids.length;
  const rowsSelected = tf.oneHot(tf.tensor1d(probe.positions, 'int32'), n).toFloat(); // [m, n]
  const columns = tf.oneHot(tf.tensor1d(probe.labels, 'int32'), logProbabilities.shape[1]).toFloat(); // [m, V]
  const picked = tf.sum(tf.mul(tf.matMul(rowsSelected, logProbabilities), columns), 1); // [m]
  return tf.neg(tf.mean(picked));
}

const rows = [];
for (const request of requests) {
  if (rows.length >= cases) break;
  const edit = probeTensors(request.prompt, request.targetNew);
  if (outputIds && edit.labels.some((id) => !outputIds.has(id))) continue; // the model cannot emit it at all
  if (edit.ids.length + length > model.dimensions.contextLength) continue;
  const rephrases = request.generality.map((probe) => probeTensors(probe.prompt, probe.target));
  const prefix = tf.variable(tf.randomNormal([1, length, hidden], 0, 0.02, 'float32', rows.length + 1));
  const adam = tf.train.adam(lr);
  let loss = Number.NaN;
  for (let step = 0; step < steps; step += 1) {
    loss = tf.tidy(() => adam.minimize(() => meanNll(prefix, edit), true, [prefix]).dataSync()[0]);
  }
  const none = tf.tidy(() => tf.zeros([1, 0, hidden]));
  const row = {
    case: request.id,
    target: request.targetNew,
    loss,
    prefixNorm: tf.tidy(() => tf.norm(prefix).dataSync()[0] / Math.sqrt(length)),
    reliability: accuracy(prefix, edit),
    generality: rephrases.length ? rephrases.reduce((s, p) => s + accuracy(prefix, p), 0) / rephrases.length : Number.NaN,
    unedited: accuracy(undefined, edit),
  };
  none.dispose();
  adam.dispose();
  prefix.dispose();
  rows.push(row);
  console.log(JSON.stringify(row));
}
const mean = (key) => rows.filter((r) => !Number.isNaN(r[key])).reduce((s, r, _, a) => s + r[key] / a.length, 0);
console.log(JSON.stringify({ summary: true, model: modelDir, cases: rows.length, length, steps, lr, reliability: mean('reliability'), generality: mean('generality'), unedited: mean('unedited'), loss: mean('loss'), embeddingNorm: tf.tidy(() => tf.mean(tf.norm(model.embed(tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32')), 'euclidean', 2)).dataSync()[0]) }));
