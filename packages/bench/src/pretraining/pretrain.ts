import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, selectBackend } from '@recipe-kit/core';
import { createRandomModel, LanguageModelTrainer, resolveTokenizer, saveModel, type DecoderModel, type TrainerOptions } from '@recipe-kit/llm-adapters';
import { ProgressBar } from '../evaluation/progress.js';
import { gitCommit, machineInfo } from '../evaluation/provenance.js';
import { knowledgeAccuracy, type KnowledgeAccuracy } from './knowledge-accuracy.js';
import { MICRO_ARCHITECTURES } from './micro-architectures.js';
import { buildCorpus, type PretrainingCorpus } from './pretraining-corpus.js';
import { writeModelReadme } from './model-readme.js';

export interface PretrainOptions {
  architecture: 'llama' | 'gptj';
  corpus: string;
  data?: string;
  records?: number;
  out: string;
  seed: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Write a resumable checkpoint every this many steps. */
  checkpointEvery: number;
  command: string;
  log?: (line: string) => void;
}

export interface PretrainResult {
  finalLoss: number;
  accuracies: KnowledgeAccuracy[];
  seconds: number;
  tokensPerSecond: number;
}

const CHECKPOINT = '.checkpoint';

/** Token ids of every corpus line (with BOS), and the compact vocabulary they and the extra texts need. */
async function tokenizeCorpus(architecture: 'llama' | 'gptj', corpus: PretrainingCorpus): Promise<{ examples: number[][]; vocabularyIds: number[] }> {
  const micro = MICRO_ARCHITECTURES[architecture];
  const tokenizer = await resolveTokenizer(micro.tokenizer);
  // Rows start as prompts do at inference: with BOS for LLaMA, with nothing for GPT-2.
  const examples = corpus.lines.map((line) => tokenizer.encode(line, { addBos: true }));
  const ids = new Set<number>(micro.specialIds);
  for (const example of examples) for (const id of example) ids.add(id);
  for (const text of corpus.vocabularyTexts) for (const id of tokenizer.encode(text, { addBos: true })) ids.add(id);
  return { examples, vocabularyIds: [...ids].sort((a, b) => a - b) };
}

/**
 * Pretrains a micro model on a corpus and writes a Hugging Face directory (config.json, safetensors,
 * README with the command, seed, corpus hash, final loss and pre-edit accuracies). Resumes from
 * `<out>/.checkpoint` when present; deterministic for a seed.
 */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const backend = await selectBackend();
  const corpus = await buildCorpus(options.corpus, {
    seed: options.seed,
    ...(options.data !== undefined ? { data: options.data } : {}),
    ...(options.records !== undefined ? { records: options.records } : {}),
  });
  const { examples, vocabularyIds } = await tokenizeCorpus(options.architecture, corpus);
  const micro = MICRO_ARCHITECTURES[options.architecture];
  const longest = Math.max(...examples.map((e) => e.length));
  const contextLength = Number(micro.config['max_position_embeddings'] ?? micro.config['n_positions']);
  if (longest > contextLength) {
    throw new InvalidInputError(`A corpus line has ${longest} tokens, more than the micro model's ${contextLength} positions.`, 'Shorten the corpus lines.');
  }
  const trainerOptions: TrainerOptions = {
    steps: options.steps,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    minLearningRate: options.learningRate / 10,
    warmupSteps: Math.min(200, Math.floor(options.steps / 20)),
    weightDecay: 0.01,
    clipNorm: 1,
    seed: options.seed,
  };
  const checkpoint = path.join(options.out, CHECKPOINT);
  let trainer: LanguageModelTrainer;
  if (LanguageModelTrainer.hasCheckpoint(checkpoint)) {
    trainer = await LanguageModelTrainer.resume(checkpoint, examples, trainerOptions);
    log(`resuming from ${checkpoint} at step ${trainer.step}`);
  } else {
    const model = await createRandomModel({
      config: { ...micro.config, recipe_kit_vocabulary_ids: vocabularyIds },
      tokenizer: micro.tokenizer,
      seed: options.seed,
    });
    trainer = new LanguageModelTrainer(model, examples, trainerOptions);
  }
  log(`${corpus.description}; ${examples.length} lines, ${vocabularyIds.length} token ids kept; ${backend.description}`);
  const bar = new ProgressBar(`pretrain ${options.architecture}/${options.corpus}`);
  const started = performance.now();
  let tokens = 0;
  let recentLoss = Number.NaN;
  while (trainer.step < options.steps) {
    const report = trainer.trainStep();
    tokens += report.tokens;
    recentLoss = Number.isNaN(recentLoss) ? report.loss : 0.98 * recentLoss + 0.02 * report.loss;
    const tokensPerSecond = tokens / ((performance.now() - started) / 1000);
    bar.update(report.step, options.steps, `loss ${recentLoss.toFixed(3)} | ${tokensPerSecond.toFixed(0)} tok/s`);
    if (report.step % options.checkpointEvery === 0 && report.step < options.steps) await trainer.saveCheckpoint(checkpoint);
  }
  bar.stop();
  const seconds = (performance.now() - started) / 1000;
  const model: DecoderModel = trainer.model;
  await saveModel(model, options.out);
  for (const [file, content] of Object.entries(corpus.artifacts)) await writeFile(path.join(options.out, file), `${JSON.stringify(content)}\n`);
  const accuracies: KnowledgeAccuracy[] = [];
  for (const check of corpus.knowledgeChecks) accuracies.push(await knowledgeAccuracy(model, check));
  const lastLosses = trainer.losses.slice(-50);
  const finalLoss = lastLosses.reduce((a, b) => a + b, 0) / Math.max(1, lastLosses.length);
  await writeModelReadme(options.out, {
    options,
    corpus,
    lines: examples.length,
    vocabularySize: vocabularyIds.length,
    parameters: model.weightNames().reduce((total, name) => total + model.getWeight(name).size, 0),
    config: { ...micro.config },
    trainerOptions,
    finalLoss,
    accuracies,
    seconds,
    tokensPerSecond: tokens / seconds,
    backend: backend.description,
    machine: machineInfo(),
    gitCommit: gitCommit(process.cwd()),
    losses: trainer.losses,
  });
  if (existsSync(checkpoint)) await rm(checkpoint, { recursive: true, force: true });
  trainer.dispose();
  model.dispose();
  await mkdir(options.out, { recursive: true });
  return { finalLoss, accuracies, seconds, tokensPerSecond: tokens / seconds };
}
