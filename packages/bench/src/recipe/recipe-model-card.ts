import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RECIPE_TRAINING_DEFAULTS } from '@recipe-kit/core';

interface LogRow {
  step: number;
  loss: number;
  reliability: number;
  generality: number;
  locality: number;
  queryToKnowledge: number;
  queryToSentinel: number;
  localityToSentinel: number;
  elapsed: number;
}

/**
 * README.md of a trained RECIPE checkpoint: how it was made (the exact command), with what, how
 * long it took, and its learning curve (means over windows of logged steps), so a committed
 * checkpoint explains itself.
 */
export async function writeRecipeModelCard(directory: string): Promise<void> {
  const training = JSON.parse(await readFile(path.join(directory, 'training.json'), 'utf8')) as Record<string, unknown>;
  const calibration = JSON.parse(await readFile(path.join(directory, 'calibration.json'), 'utf8')) as Record<string, number> & {
    sentinelMargin?: { value: number; truePositiveRate: number; trueNegativeRate: number };
    sentinelRule?: { truePositiveRate: number; trueNegativeRate: number };
  };
  const rows = (await readFile(path.join(directory, 'training-log.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as LogRow);
  const windows = 12;
  const size = Math.max(1, Math.ceil(rows.length / windows));
  const curve: string[] = [];
  for (let start = 0; start < rows.length; start += size) {
    const window = rows.slice(start, start + size);
    const mean = (key: keyof LogRow): string => (window.reduce((sum, row) => sum + row[key], 0) / window.length).toFixed(3);
    const last = window[window.length - 1] as LogRow;
    curve.push(`| ${last.step} | ${mean('loss')} | ${mean('reliability')} | ${mean('generality')} | ${mean('locality')} | ${mean('queryToKnowledge')} | ${mean('queryToSentinel')} | ${mean('localityToSentinel')} | ${(last.elapsed / 60).toFixed(1)} |`);
  }
  const hyperparameters = training['hyperparameters'] as Record<string, unknown>;
  const dataset = training['dataset'] as Record<string, unknown>;
  const card = `# RECIPE checkpoint: ${path.basename(path.dirname(path.resolve(directory)))}/${path.basename(directory)}

RECIPE's retriever (text encoder ${String((training['encoder'] as Record<string, unknown>)['name'])}, knowledge/query heads, knowledge sentinel) and
prompt encoder (l = ${String(training['promptLength'])} vectors), trained against the frozen LLM in the parent directory.
Used by \`recipe-kit eval --editor recipe --model <parent>\` (and the main job) without retraining.

## Reproduce

\`\`\`bash
${String(training['command'] ?? '(command not recorded)')}
\`\`\`

| | |
|---|---|
| training data | ${String(dataset['name'])} \`${path.basename(String(dataset['path']))}\` (${String(dataset['split'])}), ${String(dataset['examples'])} edits with rephrase and locality prompts |
| steps × batch | ${String(training['steps'])} × ${String(hyperparameters['batchSize'])} |
| optimiser | Adam, lr ${String(hyperparameters['learningRate'])} (retriever), ${String(hyperparameters['promptLearningRate'] ?? hyperparameters['learningRate'])} (prompt head); seed ${String(hyperparameters['seed'])} |
| loss weights | rel ${String(hyperparameters['reliabilityWeight'])}, gen ${String(hyperparameters['generalityWeight'])}, loc ${String(hyperparameters['localityWeight'])}, contrastive ${String(hyperparameters['contrastiveWeight'])}; hinges ×${String(hyperparameters['editHingeScale'])} (edit), ×${String(hyperparameters['contrastiveHingeScale'])} (sentinel) |
| d_r | ${String(training['representationDim'])} (the paper: 4096) |
| encoder options | \`${JSON.stringify(training['encoder'])}\` |
| batches | ${Number(hyperparameters['relationGroupSize'] ?? 1) > 1 ? `runs of ${String(hyperparameters['relationGroupSize'])} same-relation edits (hard negatives)` : 'uniform shuffle (reference)'} |
${warmStartRow(training['warmStart'])}
| trainable parameters | ${Number(training['parameters']).toLocaleString('en-US')} |
| training time | ${(Number(training['seconds']) / 60).toFixed(1)} min |
| backend | ${String(training['backend'])} |
| code | ${String(training['gitCommit'])} |
| w/o-KS threshold | ${calibration['threshold']?.toFixed(3)} (TPR ${calibration['truePositiveRate']?.toFixed(3)}, TNR ${calibration['trueNegativeRate']?.toFixed(3)} on ${calibration['positives']} / ${calibration['negatives']} training queries) |
| sentinel rule on training queries | m = 0 (RECIPE): TPR ${calibration.sentinelRule?.truePositiveRate.toFixed(3)}, TNR ${calibration.sentinelRule?.trueNegativeRate.toFixed(3)}; calibrated m = ${calibration.sentinelMargin?.value.toFixed(3)}: TPR ${calibration.sentinelMargin?.truePositiveRate.toFixed(3)}, TNR ${calibration.sentinelMargin?.trueNegativeRate.toFixed(3)} |

${learningRateNote(hyperparameters)}The hinged NLL terms average over the positions still wrong, so they stay large while accuracy rises.

## Learning curve (means over windows of logged steps)

| step | loss | rel NLL | gen NLL | loc KL | q→k | q→sentinel | loc→sentinel | min |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${curve.join('\n')}
`;
  await writeFile(path.join(directory, 'README.md'), card);
}

/** The warm-start row: where the first weights came from (that directory's README reproduces it). */
function warmStartRow(warmStart: unknown): string {
  if (!warmStart || typeof warmStart !== 'object') return '| warm start | none (fresh initial values) |';
  const { from, copied, fresh } = warmStart as { from?: unknown; copied?: unknown; fresh?: unknown };
  const detail = typeof copied === 'number' ? `: ${copied} weights copied, fresh: ${Array.isArray(fresh) && fresh.length > 0 ? fresh.join(', ') : 'none'}` : '';
  return `| warm start | from \`${String(from)}\`${detail} (trained as its own README says) |`;
}

/** Says why, when the run used another learning rate than the reference's. */
function learningRateNote(hyperparameters: Record<string, unknown>): string {
  const reference = RECIPE_TRAINING_DEFAULTS.learningRate;
  const rates = [hyperparameters['learningRate'], hyperparameters['promptLearningRate'] ?? hyperparameters['learningRate']];
  if (rates.every((rate) => rate === reference)) return '';
  return `The learning rates differ from the reference's ${reference.toExponential()}: that value suits fine-tuning a pretrained
RoBERTa for ~100k GPU steps, not a few thousand CPU steps from a small encoder. `;
}
