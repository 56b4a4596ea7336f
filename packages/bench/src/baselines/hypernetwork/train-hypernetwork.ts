import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, selectBackend, tokenizeProbe } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { loadEditDataset } from '../../datasets/index.js';
import { ProgressBar } from '../../evaluation/progress.js';
import { trainingProvenance } from '../../evaluation/provenance.js';
import { GradientDecompositionNetwork } from './gradient-decomposition-network.js';
import type { HypernetworkMethodDefinition } from './hypernetwork-method.js';
import type { HypernetworkStepReport, HypernetworkTrainer, HypernetworkTrainingHyperparameters } from './hypernetwork-trainer.js';
import { writeHypernetworkModelCard } from './hypernetwork-model-card.js';
import { lastLayers } from './last-layers.js';


export interface TrainHypernetworkOptions {
  model: string;
  tokenizer?: string;
  dataset: string;
  data: string;
  /** CounterFact directories: which split (default train; never the eval edits). */
  split?: 'train' | 'eval';
  limit?: number;
  steps: number;
  out: string;
  /** Continue from the newest checkpoint in `out/checkpoints` (default true). */
  resume?: boolean;
  checkpointEvery: number;
  logEvery?: number;
  /** Overrides of the method's network shape. */
  network?: { rank?: number; blocks?: number; layers?: number };
  hyperparameters: Partial<HypernetworkTrainingHyperparameters>;
  command?: string;
  log?: (line: string) => void;
}

export interface TrainHypernetworkResult {
  steps: number;
  seconds: number;
  /** Means over the last 50 steps. */
  final: Record<string, number>;
}

const CHECKPOINTS = 'checkpoints';
const TERMS = ['loss', 'edit', 'locality', 'editAccuracy', 'localityAgreement'] as const;

async function checkpointSteps(out: string): Promise<number[]> {
  const directory = path.join(out, CHECKPOINTS);
  if (!existsSync(directory)) return [];
  return (await readdir(directory))
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null && existsSync(path.join(directory, match[0], 'trainer-state.json')))
    .map((match) => Number(match[1]))
    .sort((a, b) => b - a);
}

/**
 * `recipe-kit train-mend` / `train-malmen`: meta-trains a hypernetwork against a frozen micro model
 * on the training split, with checkpoints (resuming continues the same run), a progress line,
 * training-log.jsonl, and at the end the network in `out/` with training.json and a model card.
 */
export async function trainHypernetwork(definition: HypernetworkMethodDefinition, options: TrainHypernetworkOptions): Promise<TrainHypernetworkResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { method } = definition;
  const backend = await selectBackend();
  const hyperparameters = { ...definition.training, ...options.hyperparameters };
  const requests = (await loadEditDataset(options.dataset, options.data, { split: options.split ?? 'train', ...(options.limit !== undefined ? { limit: options.limit } : {}) })).filter(
    (request) => request.generality.length > 0 && request.locality.length > 0,
  );
  if (requests.length === 0) throw new InvalidInputError(`${options.data} has no training record with both a rephrase and a locality prompt.`, 'Train on a split with rephrase and locality prompts (e.g. counterfact-train.json).');
  const model = await loadModel(options.model, options.tokenizer ? { tokenizer: options.tokenizer } : {});
  // A micro model outputs only its corpus's tokens: an edit towards a target it cannot write teaches nothing.
  const outputs = model.outputIds ? new Set(model.outputIds) : null;
  const trainable = requests.filter((request) => !outputs || tokenizeProbe(model.tokenizer, request.prompt, request.targetNew).continuation.every((id) => outputs.has(id)));
  if (trainable.length < requests.length) log(`train-${method}: ${requests.length - trainable.length} of ${requests.length} training edits left out: their target has tokens the model cannot output`);
  await mkdir(options.out, { recursive: true });
  const [newest] = options.resume === false ? [] : await checkpointSteps(options.out);
  const resumeFrom = newest === undefined ? null : path.join(options.out, CHECKPOINTS, `step-${newest}`);
  const layers = lastLayers(model, options.network?.layers ?? definition.network.layerCount(model.dimensions.numLayers));
  const network = resumeFrom
    ? await GradientDecompositionNetwork.load(resumeFrom, method)
    : new GradientDecompositionNetwork({
        method,
        architecture: model.architecture,
        inputSize: model.dimensions.intermediateSize,
        outputSize: model.dimensions.hiddenSize,
        layers,
        rank: options.network?.rank ?? definition.network.rank,
        blocks: options.network?.blocks ?? definition.network.blocks,
        modulation: definition.network.modulation,
        scalars: definition.network.scalars,
        seed: hyperparameters.seed,
      });
  const trainer: HypernetworkTrainer = definition.createTrainer(model, network, trainable, hyperparameters);
  const logFile = path.join(options.out, 'training-log.jsonl');
  let elapsedBefore = 0;
  if (resumeFrom) {
    const state = await trainer.resumeFrom(resumeFrom);
    elapsedBefore = typeof state['seconds'] === 'number' ? state['seconds'] : 0;
    log(`resuming from ${resumeFrom} (step ${trainer.step})`);
  } else if (existsSync(logFile)) {
    await rm(logFile);
  }
  log(`train-${method}: ${trainable.length} training edits, ${network.parameterCount().toLocaleString('en-US')} trainable parameters (layers ${network.config.layers.join(', ')}, rank ${Math.min(network.config.rank, network.config.inputSize + network.config.outputSize)}); LLM ${model.architecture} frozen; ${backend.description}`);

  const bar = new ProgressBar(`train-${method}`);
  const recent: HypernetworkStepReport[] = [];
  const started = performance.now();
  const seconds = (): number => elapsedBefore + (performance.now() - started) / 1000;
  const logEvery = options.logEvery ?? 10;
  let pending: string[] = [];
  const mean = (name: (typeof TERMS)[number]): number => recent.reduce((sum, report) => sum + report[name], 0) / recent.length;
  try {
    while (trainer.step < options.steps) {
      const report = trainer.trainStep();
      recent.push(report);
      if (recent.length > 50) recent.shift();
      if (report.step % logEvery === 0) pending.push(JSON.stringify({ ...report, elapsed: Number(seconds().toFixed(1)) }));
      bar.update(report.step, options.steps, `loss ${mean('loss').toFixed(3)} edit ${mean('edit').toFixed(3)} loc ${mean('locality').toFixed(4)} edit-acc ${mean('editAccuracy').toFixed(3)} loc-agree ${mean('localityAgreement').toFixed(3)}`);
      if (report.step % options.checkpointEvery === 0 || report.step === options.steps) {
        await appendFile(logFile, pending.map((line) => `${line}\n`).join(''));
        pending = [];
        const directory = path.join(options.out, CHECKPOINTS);
        const target = path.join(directory, `step-${trainer.step}`);
        await rm(`${target}.partial`, { recursive: true, force: true });
        await trainer.saveCheckpoint(`${target}.partial`, { seconds: seconds() });
        await rm(target, { recursive: true, force: true });
        await rename(`${target}.partial`, target);
        for (const step of (await checkpointSteps(options.out)).slice(2)) await rm(path.join(directory, `step-${step}`), { recursive: true, force: true });
      }
    }
  } finally {
    bar.stop();
  }
  if (recent.length === 0 && existsSync(logFile)) {
    // A finished run resumed: its last logged steps stand for the end.
    recent.push(...(await readFile(logFile, 'utf8')).trim().split('\n').filter(Boolean).slice(-5).map((line) => JSON.parse(line) as HypernetworkStepReport));
  }
  const final = Object.fromEntries(TERMS.map((name) => [name, recent.length === 0 ? Number.NaN : mean(name)]));
  await network.save(options.out);
  await writeFile(
    path.join(options.out, 'training.json'),
    `${JSON.stringify(
      {
        command: options.command ?? null,
        method,
        model: path.resolve(options.model),
        dataset: { name: options.dataset, path: path.resolve(options.data), split: options.split ?? 'train', examples: trainable.length, leftOut: requests.length - trainable.length },
        steps: trainer.step,
        hyperparameters: trainer.hyperparameters,
        network: { ...network.config, parameters: network.parameterCount() },
        differences: definition.differences,
        final,
        ...trainingProvenance(seconds(), backend.description),
      },
      null,
      2,
    )}\n`,
  );
  await writeHypernetworkModelCard(options.out);
  log(`train-${method}: ${trainer.step} steps in ${(seconds() / 60).toFixed(1)} min; wrote ${options.out}`);
  trainer.dispose();
  network.dispose();
  model.dispose();
  return { steps: trainer.step, seconds: seconds(), final };
}
