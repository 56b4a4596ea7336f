// MEND and MALMEN meta-training curves of one micro model, side by side, for the baseline results:
//   node scripts/hypernetwork-training-figure.mjs models/synthetic-llama bench-results/baselines/synthetic-llama
// writes OUT/hypernetwork-training.{svg,md} from MODEL/{mend,malmen}/training-log.jsonl and training.json.
import { writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { readTrainingLog, trainingCurveFigure } from '../packages/bench/dist/baselines/hypernetwork/training-curve-figure.js';
const [modelDir, out] = process.argv.slice(2);
const name = path.basename(modelDir);
const runs = [];
const lines = [];
for (const method of ['mend', 'malmen']) {
  const rows = await readTrainingLog(path.join(modelDir, method));
  if (rows.length === 0) continue;
  runs.push({ name: method.toUpperCase(), rows });
  const t = JSON.parse(await readFile(path.join(modelDir, method, 'training.json'), 'utf8'));
  const last = rows.slice(-5);
  const mean = (k) => (100 * last.reduce((s, r) => s + r[k], 0) / last.length).toFixed(1);
  lines.push(`| ${method.toUpperCase()} | ${t.steps} × ${t.hyperparameters.editsPerStep} | ${(t.seconds / 60).toFixed(1)} | ${(100 * rows.slice(0, 3).reduce((s, r) => s + r.editAccuracy, 0) / Math.min(3, rows.length)).toFixed(1)} → ${mean('editAccuracy')} | ${(100 * rows.slice(0, 3).reduce((s, r) => s + r.localityAgreement, 0) / Math.min(3, rows.length)).toFixed(1)} → ${mean('localityAgreement')} | \`${t.command}\` |`);
}
await writeFile(path.join(out, 'hypernetwork-training.svg'), `${trainingCurveFigure(runs, `${name}-hypernetworks`, `MEND and MALMEN meta-training on ${name}`)}\n`);
await writeFile(path.join(out, 'hypernetwork-training.md'), `# Hypernetwork meta-training on ${name}

Curves from \`models/${name}/{mend,malmen}/training-log.jsonl\` (every 10th step; each point one logged step or the mean of a window):
new-target token accuracy on the step's training edits (edit prompt and a rephrase) and locality agreement, both after the edit.

![MEND and MALMEN meta-training](hypernetwork-training.svg)

| hypernetwork | steps × edits | minutes | edit token acc % (first 3 logged → last 5) | locality agreement % | command |
|---|---|---:|---|---|---|
${lines.join('\n')}
`);
console.log('wrote', out);
