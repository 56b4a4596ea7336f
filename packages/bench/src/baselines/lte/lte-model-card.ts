import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

interface LogRow {
  step: number;
  loss: number;
  learningRate: number;
  elapsed: number;
}

/**
 * README.md of an LTE-aligned model: the exact command, the data mix, the retriever's accuracy on
 * the training split, and the learning curve (answer-token loss over windows of logged steps).
 */
export async function writeLteModelCard(directory: string): Promise<void> {
  const training = JSON.parse(await readFile(path.join(directory, 'training.json'), 'utf8')) as Record<string, unknown> & {
    dataset: Record<string, unknown>;
    trainer: Record<string, unknown>;
    exampleCounts: Record<string, number>;
    retrieval: { edits: number; prompts: number; rephrases: number };
  };
  const rows = (await readFile(path.join(directory, 'training-log.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as LogRow);
  const size = Math.max(1, Math.ceil(rows.length / 12));
  const curve: string[] = [];
  for (let start = 0; start < rows.length; start += size) {
    const window = rows.slice(start, start + size);
    const last = window[window.length - 1] as LogRow;
    curve.push(`| ${last.step} | ${(window.reduce((sum, row) => sum + row.loss, 0) / window.length).toFixed(4)} | ${last.learningRate.toExponential(2)} | ${(last.elapsed / 60).toFixed(1)} |`);
  }
  const counts = Object.entries(training.exampleCounts).map(([kind, count]) => `${count} ${kind}`).join(', ');
  const card = `# LTE-aligned model: ${path.basename(path.dirname(path.resolve(directory)))}/${path.basename(directory)}

The micro model in the parent directory after LTE's alignment phase (Learning to Edit, Jiang et al.,
ACL 2024): fine-tuned to answer from an "[Updated Information] … [Question] …" block when a fact is
relevant and to ignore it otherwise. Used by \`recipe-kit eval --editor lte --model <parent>\`, which
stores each edit as a fact and puts the top-1 retrieved fact in front of every query.

## Reproduce

\`\`\`bash
${String(training['command'] ?? '(command not recorded)')}
\`\`\`

| | |
|---|---|
| training data | ${String(training.dataset['name'])} \`${path.basename(String(training.dataset['path']))}\` (${String(training.dataset['split'])}): ${String(training.dataset['edits'])} edits, ${String(training.dataset['skippedEdits'])} skipped (target not emittable by the compact vocabulary) |
| examples | ${String(training['examples'])}: ${counts}; ${String(training['overlongRows'])} over the context dropped |
| steps × batch | ${String(training['steps'])} × ${String(training.trainer['batchSize'])} (full fine-tuning, loss on answer tokens only) |
| optimiser | AdamW, lr ${String(training.trainer['learningRate'])} cosine to ${String(training.trainer['minLearningRate'])}, warm-up ${String(training.trainer['warmupSteps'])} steps, weight decay 0, clip 1; seed ${String(training.trainer['seed'])} |
| final loss (mean of last 50 steps) | ${Number(training['finalLoss']).toFixed(4)} |
| fact retriever | IDF-weighted hashed bag of words (fact-encoder.json, IDF fitted on the training prompts), cosine, top-1, no threshold |
| retrieval top-1 on training edits | edit prompts ${(100 * training.retrieval.prompts).toFixed(1)}%, rephrases ${(100 * training.retrieval.rephrases).toFixed(1)}% (first ${training.retrieval.edits} edits, all training facts stored) |
| training time | ${(Number(training['seconds']) / 60).toFixed(1)} min |
| backend | ${String(training['backend'])} |
| code | ${String(training['gitCommit'])} |

Differences from the paper: a micro model instead of LLaMA-2-7B-Chat, lr ${String(training.trainer['learningRate'])} instead of 2e-5 (a small
model for hundreds of CPU steps, not 3 GPU epochs), no chat wrapper (plain template, as the paper advises for
base models), answers without facts are the dataset's original (gold) answers, no WizardLM
instruction data, and a lexical retriever instead of multi-qa-mpnet. Template words outside the
micro model's compact vocabulary read its unknown-token row.

## Learning curve (answer-token loss, means over windows of logged steps)

| step | loss | lr | min |
|---:|---:|---:|---:|
${curve.join('\n')}
`;
  await writeFile(path.join(directory, 'README.md'), card);
}
