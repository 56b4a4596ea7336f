import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, RecipeTrainer, selectBackend, type EditRequest, type RecipeRetrieverModel, type RecipeStepReport, type RecipeTrainingHyperparameters } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { RecipeEncoder } from '@recipe-kit/prompt-encoder';
import { loadEditDataset } from '../datasets/index.js';
import { ProgressBar } from '../evaluation/progress.js';
import { trainingProvenance } from '../evaluation/provenance.js';
import { calibrateThreshold, type ThresholdCalibration } from './calibrate-threshold.js';
import { createRecipeEncoder, type RecipeEncoderChoice } from './create-recipe-encoder.js';
import { writeRecipeModelCard } from './recipe-model-card.js';


export interface TrainRecipeOptions {
  model: string;
  tokenizer?: string;
  dataset: string;
  data: string;
  /** CounterFact directories: which split to train on (default train). */
  split?: 'train' | 'eval';
  limit?: number;
  steps: number;
  out: string;
  /** Continue from the newest checkpoint in `out/checkpoints` when there is one (default true). */
  resume?: boolean;
  /**
   * Warm start (ignored when resuming): a trained RECIPE directory whose weights with matching name
   * and shape replace the fresh ones; the optimizer and step start anew.
   */
  initFrom?: string;
  checkpointEvery: number;
  /** Steps between lines of training-log.jsonl (default 10, as the reference logs). */
  logEvery?: number;
  encoder: Omit<RecipeEncoderChoice, 'llmWidth' | 'seed'>;
  hyperparameters: Partial<RecipeTrainingHyperparameters>;
  command?: string;
  log?: (line: string) => void;
}

export interface TrainRecipeResult {
  steps: number;
  seconds: number;
  /** Mean of each term over the last 50 steps. */
  finalTerms: Record<string, number>;
  threshold: number;
}

const CHECKPOINTS = 'checkpoints';
const TERM_NAMES = ['loss', 'reliability', 'generality', 'locality', 'queryToKnowledge', 'queryToSentinel', 'localityToSentinel'] as const;

/** Steps of the complete checkpoints in `out/checkpoints` (a step-N directory is complete once it has its state file), newest first. */
async function checkpointSteps(out: string): Promise<number[]> {
  const directory = path.join(out, CHECKPOINTS);
  if (!existsSync(directory)) return [];
  return (await readdir(directory))
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null && existsSync(path.join(directory, match[0], 'trainer-state.json')))
    .map((match) => Number(match[1]))
    .sort((a, b) => b - a);
}

async function newestCheckpoint(out: string): Promise<string | null> {
  const [newest] = await checkpointSteps(out);
  return newest === undefined ? null : path.join(out, CHECKPOINTS, `step-${newest}`);
}

/**
 * `recipe-kit train-recipe`: trains RECIPE's retriever and prompt encoder against a frozen LLM on a
 * training split, with checkpoints (resumable, same run as without interruption), a progress line
 * with every loss term, training-log.jsonl, and at the end the trained encoder in `out/` with
 * training.json (provenance) and calibration.json (the w/o-KS threshold).
 */
/** Fits the w/o-KS threshold and the sentinel margin on the first 512 training edits; writes calibration.json. */
export async function writeCalibration(retriever: RecipeRetrieverModel, requests: readonly EditRequest[], directory: string): Promise<ThresholdCalibration> {
  const calibration = calibrateThreshold(retriever, requests.slice(0, 512));
  const note = 'Fitted on the first 512 training edits (balanced accuracy of edit/rephrase queries vs locality queries): threshold = the w/o-KS ablation\'s fixed similarity threshold; sentinelMargin = m in s_j > s_0 + m (RECIPE uses m = 0, reported as sentinelRule).';
  await writeFile(path.join(directory, 'calibration.json'), `${JSON.stringify({ note, ...calibration }, null, 2)}\n`);
  return calibration;
}

export async function trainRecipe(options: TrainRecipeOptions): Promise<TrainRecipeResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const backend = await selectBackend();
  const seed = options.hyperparameters.seed ?? 1;
  const requests = (await loadEditDataset(options.dataset, options.data, { split: options.split ?? 'train', ...(options.limit !== undefined ? { limit: options.limit } : {}) })).filter(
    (request) => request.generality.length > 0 && request.locality.length > 0,
  );
  if (requests.length === 0) throw new InvalidInputError(`${options.data} has no training record with both a rephrase and a locality prompt.`, 'Train on a split with rephrase and locality prompts (e.g. counterfact-train.json).');
  const model = await loadModel(options.model, options.tokenizer ? { tokenizer: options.tokenizer } : {});
  await mkdir(options.out, { recursive: true });
  const resumeFrom = options.resume === false ? null : await newestCheckpoint(options.out);
  const source = !resumeFrom && options.initFrom ? { directory: options.initFrom, encoder: await RecipeEncoder.load(options.initFrom) } : null;
  // A frozen word table is not saved but rebuilt from the encoder's seed, so a warm start keeps the
  // source's seed: another seed silently redrew the special and hashed out-of-vocabulary rows.
  const initialisationSeed = source === null ? seed : encoderSeed(source.encoder) ?? seed;
  const retriever = resumeFrom ? await RecipeEncoder.load(resumeFrom) : await createRecipeEncoder({ ...options.encoder, llmWidth: model.dimensions.hiddenSize, seed: initialisationSeed });
  const warmStart = source === null ? null : warmStartFrom(retriever, source, log);
  const trainer = new RecipeTrainer({ model, retriever, requests, hyperparameters: options.hyperparameters });
  const logFile = path.join(options.out, 'training-log.jsonl');
  let elapsedBefore = 0;
  if (resumeFrom) {
    const state = await trainer.resumeFrom(resumeFrom);
    elapsedBefore = typeof state['seconds'] === 'number' ? state['seconds'] : 0;
    log(`resuming from ${resumeFrom} (step ${trainer.step})`);
  } else if (existsSync(logFile)) {
    await rm(logFile);
  }
  log(`train-recipe: ${requests.length} training edits, ${retriever.parameterCount().toLocaleString('en-US')} trainable parameters (${retriever.encoder.name}, d_r ${retriever.config.representationDim}, l ${retriever.config.promptLength}); LLM ${model.architecture} hidden ${model.dimensions.hiddenSize} frozen; ${backend.description}`);

  const bar = new ProgressBar('train-recipe');
  const recent: RecipeStepReport[] = [];
  const started = performance.now();
  const seconds = (): number => elapsedBefore + (performance.now() - started) / 1000;
  const logEvery = options.logEvery ?? 10;
  let pendingLog: string[] = [];
  try {
    while (trainer.step < options.steps) {
      const report = trainer.trainStep();
      recent.push(report);
      if (recent.length > 50) recent.shift();
      if (report.step % logEvery === 0) pendingLog.push(JSON.stringify({ ...report, elapsed: Number(seconds().toFixed(1)) }));
      const averages = Object.fromEntries(TERM_NAMES.map((name) => [name, recent.reduce((sum, r) => sum + r[name], 0) / recent.length]));
      bar.update(report.step, options.steps, `loss ${fmt(averages['loss'])} rel ${fmt(averages['reliability'])} gen ${fmt(averages['generality'])} loc ${fmt(averages['locality'])} q→k ${fmt(averages['queryToKnowledge'])} q→s ${fmt(averages['queryToSentinel'])} l→s ${fmt(averages['localityToSentinel'])}`);
      if (report.step % options.checkpointEvery === 0 || report.step === options.steps) {
        await appendFile(logFile, pendingLog.map((line) => `${line}\n`).join(''));
        pendingLog = [];
        await saveCheckpoint(trainer, options.out, seconds());
      }
    }
  } finally {
    bar.stop();
  }
  if (recent.length === 0 && existsSync(logFile)) {
    // Nothing left to train (a finished run resumed): the last logged steps stand for the end.
    const logged = (await readFile(logFile, 'utf8')).trim().split('\n').filter(Boolean).slice(-5).map((line) => JSON.parse(line) as RecipeStepReport);
    recent.push(...logged);
  }
  const finalTerms = Object.fromEntries(TERM_NAMES.map((name) => [name, recent.length === 0 ? Number.NaN : recent.reduce((sum, r) => sum + r[name], 0) / recent.length]));
  const calibration = await writeCalibration(retriever, requests, options.out);
  await retriever.save(options.out);
  await writeFile(
    path.join(options.out, 'training.json'),
    `${JSON.stringify(
      {
        command: options.command ?? null,
        model: path.resolve(options.model),
        dataset: { name: options.dataset, path: path.resolve(options.data), split: options.split ?? 'train', examples: requests.length },
        steps: trainer.step,
        hyperparameters: trainer.hyperparameters,
        encoder: { name: retriever.encoder.name, ...options.encoder },
        warmStart: warmStart ?? (options.initFrom ? { from: path.resolve(options.initFrom), note: 'recorded by the run that started from it (see its first training.json)' } : null),
        representationDim: retriever.config.representationDim,
        promptLength: retriever.config.promptLength,
        parameters: retriever.parameterCount(),
        finalTerms,
        ...trainingProvenance(seconds(), backend.description),
      },
      null,
      2,
    )}\n`,
  );
  await writeRecipeModelCard(options.out);
  log(`train-recipe: ${trainer.step} steps in ${(seconds() / 60).toFixed(1)} min; w/o-KS threshold ${calibration.threshold.toFixed(3)} (TPR ${calibration.truePositiveRate.toFixed(3)}, TNR ${calibration.trueNegativeRate.toFixed(3)}); wrote ${options.out}`);
  trainer.dispose();
  retriever.dispose();
  model.dispose();
  return { steps: options.steps, seconds: seconds(), finalTerms, threshold: calibration.threshold };
}

/** The seed the source's text encoder drew its random rows from (absent for a loaded BERT). */
function encoderSeed(source: RecipeEncoder): number | undefined {
  const value = source.encoder.configJson()['seed'];
  return typeof value === 'number' ? value : undefined;
}

/** Copies a trained retriever's matching weights into `retriever` and frees the source; logs and returns what was copied. */
function warmStartFrom(retriever: RecipeEncoder, source: { directory: string; encoder: RecipeEncoder }, log: (line: string) => void): { from: string; copied: number; fresh: string[] } {
  const { directory } = source;
  try {
    const { copied, fresh } = retriever.copyWeightsFrom(source.encoder);
    if (copied.length === 0) throw new InvalidInputError(`--init-from ${directory}: no weight matches this encoder's names and shapes.`, 'Warm-start from a checkpoint with the same encoder widths, d_r and prompt length.');
    log(`warm start from ${directory}: ${copied.length} weights copied; fresh: ${fresh.join(', ') || 'none'}`);
    return { from: path.resolve(directory), copied: copied.length, fresh };
  } finally {
    source.encoder.dispose();
  }
}

function fmt(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(3);
}

/** Writes step-N beside the others (complete only once trainer-state.json exists), keeping the newest two. */
async function saveCheckpoint(trainer: RecipeTrainer, out: string, seconds: number): Promise<void> {
  const directory = path.join(out, CHECKPOINTS);
  const target = path.join(directory, `step-${trainer.step}`);
  const partial = `${target}.partial`;
  await rm(partial, { recursive: true, force: true });
  await trainer.saveCheckpoint(partial, { seconds });
  await rm(target, { recursive: true, force: true });
  await rename(partial, target);
  for (const step of (await checkpointSteps(out)).slice(2)) await rm(path.join(directory, `step-${step}`), { recursive: true, force: true });
}
