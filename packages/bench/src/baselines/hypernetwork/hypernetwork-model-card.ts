import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readTrainingLog, trainingCurveFigure, type TrainingLogRow as LogRow } from './training-curve-figure.js';

/**
 * README.md of a trained MEND / MALMEN hypernetwork: the exact command, data, settings, the
 * deliberate differences from the reference, and the learning curve (means over windows of logged
 * steps), so a committed artefact explains itself.
 */
export async function writeHypernetworkModelCard(directory: string): Promise<void> {
  const training = JSON.parse(await readFile(path.join(directory, 'training.json'), 'utf8')) as Record<string, unknown>;
  const rows = await readTrainingLog(directory);
  const size = Math.max(1, Math.ceil(rows.length / 12));
  const curve: string[] = [];
  for (let start = 0; start < rows.length; start += size) {
    const window = rows.slice(start, start + size);
    const mean = (key: keyof LogRow, digits: number): string => (window.reduce((sum, row) => sum + row[key], 0) / window.length).toFixed(digits);
    const last = window[window.length - 1] as LogRow;
    curve.push(`| ${last.step} | ${mean('loss', 4)} | ${mean('edit', 3)} | ${mean('locality', 4)} | ${mean('editAccuracy', 3)} | ${mean('localityAgreement', 3)} | ${(last.elapsed / 60).toFixed(1)} |`);
  }
  const method = String(training['method']);
  const network = training['network'] as Record<string, unknown>;
  const hyper = training['hyperparameters'] as Record<string, unknown>;
  const dataset = training['dataset'] as Record<string, unknown>;
  const card = `# ${method.toUpperCase()} hypernetwork: ${path.basename(path.dirname(path.resolve(directory)))}/${path.basename(directory)}

The ${method === 'mend' ? 'MEND gradient-decomposition' : 'MALMEN'} hypernetwork, meta-trained against the frozen micro model in the parent
directory. Used by \`recipe-kit eval --editor ${method} --model <parent>\` (and the main job) without retraining.

## Reproduce

\`\`\`bash
${String(training['command'] ?? '(command not recorded)')}
\`\`\`

| | |
|---|---|
| training data | ${String(dataset['name'])} \`${path.basename(String(dataset['path']))}\` (${String(dataset['split'])}), ${String(dataset['examples'])} edits with rephrase and locality prompts${Number(dataset['leftOut'] ?? 0) > 0 ? ` (${String(dataset['leftOut'])} more left out: their target has tokens the model cannot output)` : ''} |
| edited weights | MLP output projection of layers ${(network['layers'] as number[]).join(', ')} ([${String(network['inputSize'])}, ${String(network['outputSize'])}] each) |
| network | ${String(network['blocks'])} residual blocks, rank ${Math.min(Number(network['rank']), Number(network['inputSize']) + Number(network['outputSize']))}, scale/shift ${String(network['modulation'])}; ${Number(network['parameters']).toLocaleString('en-US')} parameters |
| steps × edits | ${String(training['steps'])} × ${String(hyper['editsPerStep'])} |
| optimiser | Adam, lr ${String(hyper['learningRate'])} (blocks), ${String(hyper['scalarLearningRate'])} (per-layer scalars), clip ${String(hyper['clipNorm'])}; seed ${String(hyper['seed'])} |
| loss | ${String(hyper['editWeight'])} · edit NLL + ${String(hyper['localityWeight'])} · locality KL |
| training time | ${(Number(training['seconds']) / 60).toFixed(1)} min |
| backend | ${String(training['backend'])} |
| code | ${String(training['gitCommit'])} |

Deliberate differences from the reference configuration:
${(training['differences'] as string[]).map((line) => `- ${line}`).join('\n')}

## Learning curve (means over windows of logged steps; after the edit, on the step's training edits)

![training curve](training-curve.svg)

| step | loss | edit NLL | locality KL | edit token acc | locality agreement | min |
|---:|---:|---:|---:|---:|---:|---:|
${curve.join('\n')}
`;
  const name = `${path.basename(path.dirname(path.resolve(directory)))} ${method.toUpperCase()}`;
  await writeFile(path.join(directory, 'training-curve.svg'), `${trainingCurveFigure([{ name, rows }], `${method}-training`, `${name} meta-training`)}\n`);
  await writeFile(path.join(directory, 'README.md'), card);
}
