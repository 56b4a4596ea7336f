import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, selectBackend, type EditRequest } from '@recipe-kit/core';
import { LanguageModelTrainer, loadModel, saveModel, type TrainerOptions } from '@recipe-kit/llm-adapters';
import { loadEditDataset } from '../../datasets/index.js';
import { ProgressBar } from '../../evaluation/progress.js';
import { hashPath, trainingProvenance } from '../../evaluation/provenance.js';
import { BagOfWordsEncoder } from './bag-of-words-encoder.js';
import { FactMemory } from './fact-memory.js';
import { retrievalAccuracy, type RetrievalAccuracy } from './retrieval-accuracy.js';
import { buildLteTrainingSet } from './lte-training-examples.js';
import { writeLteModelCard } from './lte-model-card.js';


/** File of the fitted fact encoder beside the aligned model. */
export const LTE_ENCODER_FILE = 'fact-encoder.json';
const CHECKPOINT = '.checkpoint';

export interface TrainLteOptions {
  model: string;
  tokenizer?: string;
  dataset: string;
  data: string;
  split?: 'train' | 'eval';
  limit?: number;
  /** Aligned model, encoder, log and model card go here (the editor looks in `<model>/lte`). */
  out: string;
  steps: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  checkpointEvery?: number;
  logEvery?: number;
  resume?: boolean;
  command?: string;
  log?: (line: string) => void;
}

export interface TrainLteResult {
  steps: number;
  seconds: number;
  finalLoss: number;
  examples: number;
  retrieval: RetrievalAccuracy;
}

/** The edits LTE learns from: only those with a rephrase or locality prompt to build its data from. */
async function trainingEdits(options: TrainLteOptions): Promise<EditRequest[]> {
  const requests = (await loadEditDataset(options.dataset, options.data, { split: options.split ?? 'train', ...(options.limit !== undefined ? { limit: options.limit } : {}) })).filter(
    (request) => request.locality.length > 0,
  );
  if (requests.length === 0) throw new InvalidInputError(`${options.data} has no training edit with a locality prompt.`, 'Train on a split with locality prompts (e.g. counterfact-train.json, held-out-train-edits.json).');
  return requests;
}

/**
 * `recipe-kit train-lte`: LTE's alignment phase on a micro model. Builds LTE's data mix from a
 * training split (see buildLteTrainingSet), fine-tunes every weight with the answer-only loss
 * (AdamW, cosine schedule with 3% warm-up as the paper), resumable from `out/.checkpoint`, and
 * writes the aligned model, the fitted fact encoder, training.json, training-log.jsonl and a README.
 */
export async function trainLte(options: TrainLteOptions): Promise<TrainLteResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const backend = await selectBackend();
  const seed = options.seed ?? 0;
  const requests = await trainingEdits(options);
  const base = await loadModel(options.model, options.tokenizer ? { tokenizer: options.tokenizer } : {});
  const encoder = BagOfWordsEncoder.fit(requests.flatMap((request) => [request.prompt, ...request.generality.map((probe) => probe.prompt), ...request.locality.map((probe) => probe.prompt)]));
  const memory = new FactMemory(encoder);
  await memory.add(requests);
  const retrieval = retrievalAccuracy(memory, requests.slice(0, 1000));
  log(`train-lte: retrieval top-1 over ${memory.size} stored training facts: edit prompts ${(100 * retrieval.prompts).toFixed(1)}%, rephrases ${(100 * retrieval.rephrases).toFixed(1)}% (first ${retrieval.edits} edits)`);
  const set = buildLteTrainingSet(base, memory, requests, { seed });
  memory.dispose();
  if (set.examples.length === 0) throw new InvalidInputError('No LTE training example could be built.', 'Check that the model can emit the targets (compact vocabulary) and that prompts fit its context.');
  log(`train-lte: ${set.examples.length} examples from ${requests.length - set.skippedEdits} edits (${set.skippedEdits} skipped: target not emittable; ${set.overlong} rows over the context); ${backend.description}`);
  const ids = set.examples.map((example) => example.ids);
  const answerStarts = set.examples.map((example) => example.answerStart);
  const learningRate = options.learningRate ?? 1e-3;
  const trainerOptions: TrainerOptions = {
    steps: options.steps,
    batchSize: options.batchSize ?? 16,
    learningRate,
    minLearningRate: learningRate / 10,
    warmupSteps: Math.ceil(0.03 * options.steps),
    weightDecay: 0,
    clipNorm: 1,
    seed,
  };
  await mkdir(options.out, { recursive: true });
  const checkpoint = path.join(options.out, CHECKPOINT);
  const logFile = path.join(options.out, 'training-log.jsonl');
  let trainer: LanguageModelTrainer;
  let elapsedBefore = 0;
  if (options.resume !== false && LanguageModelTrainer.hasCheckpoint(checkpoint)) {
    base.dispose();
    trainer = await LanguageModelTrainer.resume(checkpoint, ids, trainerOptions, answerStarts);
    elapsedBefore = Number(JSON.parse(await readFile(path.join(checkpoint, 'elapsed.json'), 'utf8').catch(() => '0')));
    log(`resuming from ${checkpoint} (step ${trainer.step})`);
  } else {
    if (existsSync(logFile)) await rm(logFile);
    trainer = new LanguageModelTrainer(base, ids, trainerOptions, answerStarts);
  }
  const bar = new ProgressBar('train-lte');
  const started = performance.now();
  const seconds = (): number => elapsedBefore + (performance.now() - started) / 1000;
  const logEvery = options.logEvery ?? 10;
  const checkpointEvery = options.checkpointEvery ?? 250;
  let pending: string[] = [];
  let recent = Number.NaN;
  try {
    while (trainer.step < options.steps) {
      const report = trainer.trainStep();
      recent = Number.isNaN(recent) ? report.loss : 0.95 * recent + 0.05 * report.loss;
      if (report.step % logEvery === 0) pending.push(JSON.stringify({ step: report.step, loss: report.loss, learningRate: report.learningRate, gradientNorm: report.gradientNorm, elapsed: Number(seconds().toFixed(1)) }));
      bar.update(report.step, options.steps, `loss ${recent.toFixed(4)} lr ${report.learningRate.toExponential(2)}`);
      if (report.step % checkpointEvery === 0 || report.step === options.steps) {
        await appendFile(logFile, pending.map((line) => `${line}\n`).join(''));
        pending = [];
        if (report.step < options.steps) {
          await trainer.saveCheckpoint(checkpoint);
          await writeFile(path.join(checkpoint, 'elapsed.json'), JSON.stringify(seconds()));
        }
      }
    }
  } finally {
    bar.stop();
  }
  const lastLosses = trainer.losses.slice(-50);
  const finalLoss = lastLosses.reduce((a, b) => a + b, 0) / Math.max(1, lastLosses.length);
  await saveModel(trainer.model, options.out);
  await writeFile(path.join(options.out, LTE_ENCODER_FILE), `${JSON.stringify(encoder.toJson())}\n`);
  await writeFile(
    path.join(options.out, 'training.json'),
    `${JSON.stringify(
      {
        command: options.command ?? null,
        baseModel: { path: path.resolve(options.model), sha256: await hashPath(path.join(options.model, 'model.safetensors')).catch(() => null) },
        dataset: { name: options.dataset, path: path.resolve(options.data), split: options.split ?? 'train', edits: requests.length, skippedEdits: set.skippedEdits },
        examples: set.examples.length,
        exampleCounts: set.counts,
        overlongRows: set.overlong,
        trainer: trainerOptions,
        steps: trainer.step,
        finalLoss,
        retrieval,
        encoder: { kind: 'IDF-weighted hashed bag of words', dimension: encoder.dimension },
        ...trainingProvenance(seconds(), backend.description),
      },
      null,
      2,
    )}\n`,
  );
  await writeLteModelCard(options.out);
  await rm(checkpoint, { recursive: true, force: true });
  log(`train-lte: ${trainer.step} steps in ${(seconds() / 60).toFixed(1)} min, final loss ${finalLoss.toFixed(4)}; wrote ${options.out}`);
  const model = trainer.model;
  trainer.dispose();
  model.dispose();
  return { steps: trainer.step, seconds: seconds(), finalLoss, examples: set.examples.length, retrieval };
}
