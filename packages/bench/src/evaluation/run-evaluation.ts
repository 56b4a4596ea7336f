import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, tokenizeProbe, type CausalLanguageModel, type EditRequest, type GeneralAbilityTask } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { loadEditDataset, loadGeneralTask } from '../datasets/index.js';
import { createEditor } from '../editors/editor-registry.js';
import { scoreGeneralAbility } from '../metrics/general-ability.js';
import { mean } from '../metrics/batched-scoring.js';
import { runEditProtocol, type CaseResult, type ProtocolName } from '../protocols/edit-protocol.js';
import { ProgressBar } from './progress.js';
import { gitCommit, hashPath, machineInfo } from './provenance.js';
import { summarize, summaryMarkdown, type RunSummary } from './summarize.js';

/** Positions kept free for an editor's prefix (RECIPE: l = 3 per retrieved fact) when skipping overlong cases. */
const PREFIX_ROOM = 16;

/** Whether every probe of a case fits the model's context with room for an editor's prefix (`--skip-overlong` drops the rest). */
export function fitsContext(model: CausalLanguageModel, request: EditRequest): boolean {
  return [{ prompt: request.prompt, target: request.targetNew }, ...request.generality, ...request.locality].every((probe) => {
    const { context, continuation } = tokenizeProbe(model.tokenizer, probe.prompt, probe.target);
    return context.length + continuation.length + PREFIX_ROOM <= model.dimensions.contextLength;
  });
}

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface EvaluationOptions {
  editor: string;
  model: string;
  tokenizer?: string;
  dataset: string;
  data: string;
  /** CounterFact directories hold both splits. */
  split?: 'eval' | 'train';
  protocol: ProtocolName;
  /** Edits per chunk (T); 'all' = every case that survives loading in one chunk. */
  edits: number | 'all';
  limit?: number;
  seed: number;
  out: string;
  /** General-ability tasks run on the edited model after each chunk: name → path. */
  general?: Record<string, string>;
  generalLimit?: number;
  batchSize?: number;
  /** A trained artefact for the editor (RECIPE: the train-recipe output; default <model>/recipe). */
  checkpoint?: string;
  /** Drop cases whose probes do not fit the model's context (counted in params.json) instead of failing. */
  skipOverlong?: boolean;
  /** Editor-specific options (`--editor-option key=value`). */
  editorOptions?: Record<string, string>;
  /** The command line, recorded in params.json. */
  command?: string;
  log?: (line: string) => void;
}

export interface EvaluationResult {
  summary: RunSummary;
  /** The per-case lines written to cases.jsonl. */
  cases: CaseResult[];
  directory: string;
}

/**
 * Runs one editor under one protocol on one model and dataset, and writes the run directory:
 * params.json (everything needed to reproduce, with data hashes), cases.jsonl, summary.json, summary.md.
 */
export async function runEvaluation(options: EvaluationOptions): Promise<EvaluationResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const backend = await selectBackend();
  const loaded: EditRequest[] = await loadEditDataset(options.dataset, options.data, {
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.split ? { split: options.split } : {}),
  });
  const generalTasks: GeneralAbilityTask[] = [];
  for (const [name, file] of Object.entries(options.general ?? {})) {
    generalTasks.push(await loadGeneralTask(name, file, options.generalLimit !== undefined ? { limit: options.generalLimit } : {}));
  }
  const model = await loadModel(options.model, options.tokenizer ? { tokenizer: options.tokenizer } : {});
  // Cases whose probes do not fit the model's context (plus room for a prefix) are an error unless skipped on request.
  const requests = options.skipOverlong ? loaded.filter((request) => fitsContext(model, request)) : loaded;
  const skippedOverlong = loaded.length - requests.length;
  const edits = options.edits === 'all' ? requests.length : options.edits;
  if (skippedOverlong > 0) log(`skipped ${skippedOverlong} of ${loaded.length} cases whose probes exceed the context of ${model.dimensions.contextLength} tokens minus ${PREFIX_ROOM} for a prefix (--skip-overlong)`);
  const editor = await createEditor(options.editor, model, {
    modelDirectory: options.model,
    ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
    ...(options.editorOptions !== undefined ? { options: options.editorOptions } : {}),
  });
  const modelLabel = path.basename(options.model).replace(/\.bin$/, '');
  const params = {
    command: options.command ?? null,
    editor: editorLabel(options.editor, options.editorOptions),
    editorName: options.editor,
    checkpoint: options.checkpoint ? path.resolve(options.checkpoint) : null,
    editorOptions: options.editorOptions ?? {},
    model: {
      path: path.resolve(options.model),
      architecture: model.architecture,
      parameters: model.weightNames().reduce((total, name) => total + model.getWeight(name).size, 0),
      tokenizer: model.tokenizer.name,
      sha256: await hashPath(options.model),
    },
    dataset: { name: options.dataset, path: path.resolve(options.data), split: options.split ?? null, sha256: await hashPath(options.data), cases: requests.length, skippedOverlong },
    general: Object.fromEntries(await Promise.all(generalTasks.map(async (task) => [task.name, { path: path.resolve(options.general?.[task.name] ?? ''), items: task.items.length }]))),
    protocol: options.protocol,
    edits: options.protocol === 'single' ? 1 : edits,
    limit: options.limit ?? null,
    seed: options.seed,
    backend: backend.description,
    gitCommit: gitCommit(repositoryRoot),
    date: new Date().toISOString(),
    machine: machineInfo(),
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(path.join(options.out, 'params.json'), `${JSON.stringify(params, null, 2)}\n`);

  const bar = new ProgressBar(`${options.editor} ${options.protocol} T=${params.edits}`);
  const generalScores = new Map<string, number[]>();
  try {
    const result = await runEditProtocol(editor, requests, {
      protocol: options.protocol,
      edits,
      seed: options.seed,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      onProgress: (event) => {
        const chunks = Math.floor(requests.length / params.edits);
        if (event.kind === 'edit') bar.update(event.chunk * params.edits + event.done, chunks * params.edits, `chunk ${event.chunk + 1}/${chunks}`);
      },
      afterChunk: async () => {
        for (const task of generalTasks) {
          const score = await scoreGeneralAbility(editor, task, options.batchSize);
          generalScores.set(task.name, [...(generalScores.get(task.name) ?? []), score.score]);
        }
      },
    });
    bar.stop();
    const summary = summarize(result.cases, {
      editor: editorLabel(options.editor, options.editorOptions),
      model: modelLabel,
      dataset: options.dataset,
      protocol: options.protocol,
      edits: params.edits,
      chunks: result.chunks,
      querySecondsMean: result.querySecondsMean,
    });
    if (generalTasks.length > 0) summary.general = Object.fromEntries([...generalScores].map(([name, values]) => [name, mean(values)]));
    await writeFile(path.join(options.out, 'cases.jsonl'), result.cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
    await writeFile(path.join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFile(path.join(options.out, 'summary.md'), summaryMarkdown(summary));
    log(`wrote ${options.out}/{params.json,cases.jsonl,summary.json,summary.md}`);
    return { summary, cases: result.cases, directory: options.out };
  } finally {
    bar.stop();
    editor.dispose();
    model.dispose();
  }
}

/** Paper names of RECIPE's ablations, so report rows read as the paper's table. */
const OPTION_LABELS: Record<string, string> = {
  'ablation=no-sentinel': 'w/o KS',
  'ablation=no-continuous-prompt': 'w/o CPT',
  'ablation=none': '',
  'sentinel-margin=calibrated': 'calibrated sentinel margin',
  'sentinel-margin=validated': 'validated sentinel margin',
};

/** The editor's row label: its name, plus its options where they change it (`recipe (w/o KS)`). */
export function editorLabel(editor: string, options: Readonly<Record<string, string>> = {}): string {
  const parts = Object.entries(options)
    .map(([key, value]) => OPTION_LABELS[`${key}=${value}`] ?? `${key}=${value}`)
    .filter((part) => part !== '');
  return parts.length === 0 ? editor : `${editor} (${parts.join(', ')})`;
}
