import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TrainerOptions } from '@recipe-kit/llm-adapters';
import type { MachineInfo } from '../evaluation/provenance.js';
import type { KnowledgeAccuracy } from './knowledge-accuracy.js';
import type { PretrainOptions } from './pretrain.js';
import type { PretrainingCorpus } from './pretraining-corpus.js';

export interface ModelCard {
  options: PretrainOptions;
  corpus: PretrainingCorpus;
  lines: number;
  vocabularySize: number;
  parameters: number;
  config: Record<string, unknown>;
  trainerOptions: TrainerOptions;
  finalLoss: number;
  accuracies: KnowledgeAccuracy[];
  seconds: number;
  tokensPerSecond: number;
  backend: string;
  machine: MachineInfo;
  gitCommit: string | null;
  losses: number[];
}

/** Loss every ~2% of training, for the curve in the README. */
function lossCurve(losses: number[]): string {
  const points = 50;
  const stride = Math.max(1, Math.floor(losses.length / points));
  const rows: string[] = [];
  for (let start = 0; start < losses.length; start += stride) {
    const window = losses.slice(start, start + stride);
    rows.push(`| ${start + window.length} | ${(window.reduce((a, b) => a + b, 0) / window.length).toFixed(4)} |`);
  }
  return ['| step | mean loss |', '|---:|---:|', ...rows].join('\n');
}

/** The model card: how to reproduce the checkpoint, and what it knows before any edit. */
export async function writeModelReadme(directory: string, card: ModelCard): Promise<void> {
  const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const text = `# ${path.basename(directory)}

A micro ${card.options.architecture === 'llama' ? 'LLaMA-2' : 'GPT-J'} model pretrained by recipe-kit on ${card.corpus.description}, so
that it knows facts before it is edited. Real tokenizer (${String(card.config['vocab_size'])} ids); the checkpoint stores rows for the
${card.vocabularySize} ids its corpus uses (\`recipe_kit_vocabulary_ids\` in config.json), invisible above the adapter.

## Reproduce

\`\`\`bash
${card.options.command}
\`\`\`

| | |
|---|---|
| seed | ${card.options.seed} |
| corpus | ${card.lines} lines, sha256 \`${card.corpus.sha256}\` |
| parameters | ${card.parameters.toLocaleString('en-US')} |
| steps × batch | ${card.trainerOptions.steps} × ${card.trainerOptions.batchSize} (AdamW, lr ${card.trainerOptions.learningRate} cosine to ${card.trainerOptions.minLearningRate}, warm-up ${card.trainerOptions.warmupSteps}, weight decay ${card.trainerOptions.weightDecay}, clip ${card.trainerOptions.clipNorm}) |
| final loss (mean of last 50 steps) | ${card.finalLoss.toFixed(4)} |
| training time | ${(card.seconds / 60).toFixed(1)} min, ${card.tokensPerSecond.toFixed(0)} target tokens/s |
| backend | ${card.backend} |
| machine | ${card.machine.cpu}, ${card.machine.cores} cores, ${card.machine.memoryGiB} GiB, Node ${card.machine.node} |
| code | ${card.gitCommit ?? 'unknown commit'} |

## What it knows before editing (teacher-forced top-1)

| probe set | items | all answer tokens top-1 | token accuracy |
|---|---:|---:|---:|
${card.accuracies.map((a) => `| ${a.name} | ${a.items} | ${percent(a.exact)} | ${percent(a.token)} |`).join('\n')}

## Loss curve

${lossCurve(card.losses)}
`;
  await writeFile(path.join(directory, 'README.md'), text);
}
