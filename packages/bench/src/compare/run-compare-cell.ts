import { createHash } from 'node:crypto';
import path from 'node:path';
import { ContextOverflowError, type EditRequest, type GeneralAbilityTask } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { createEditor } from '../editors/editor-registry.js';
import { summarize, summaryMarkdown, type RunSummary } from '../evaluation/summarize.js';
import { mean } from '../metrics/batched-scoring.js';
import { scoreGeneralAbility } from '../metrics/general-ability.js';
import { chunkRequests, runEditProtocol } from '../protocols/edit-protocol.js';
import { CellStore, type ChunkRecord } from './cell-store.js';
import type { CompareConfig, EditorRow } from './compare-config.js';

/** One (editor row, T) of a comparison. */
export interface CellPlan {
  row: EditorRow;
  /** The row label in tables, e.g. "recipe (w/o KS)". */
  label: string;
  edits: number;
  directory: string;
  /** The first N of the run's cases, where the row asks for fewer ("cases" in the config). */
  cases?: number;
}

/** What every cell of one run shares (loaded and hashed once). */
export interface CellContext {
  config: CompareConfig;
  requests: readonly EditRequest[];
  generalTasks: readonly GeneralAbilityTask[];
  /** Fields of params.json common to all cells (model, dataset, machine, backend, commit, command). */
  sharedParams: { model: { sha256: string } & Record<string, unknown>; dataset: { sha256: string } & Record<string, unknown> } & Record<string, unknown>;
  modelLabel: string;
}

export type CellOutcome = { status: 'done-before' | 'finished'; resumedAtChunk: number; summary?: RunSummary };

/** The cases a cell edits and scores: the run's, or the first `plan.cases` of them. */
export function cellRequests(plan: CellPlan, context: CellContext): readonly EditRequest[] {
  return plan.cases === undefined ? context.requests : context.requests.slice(0, plan.cases);
}

/** Edits a cell applies in all (chunks × T): its share of the run's progress. */
export function cellEditCount(plan: CellPlan, context: CellContext): number {
  return Math.floor(cellRequests(plan, context).length / plan.edits) * plan.edits;
}

function cellKey(plan: CellPlan, context: CellContext): string {
  const { config } = context;
  const fields = {
    editor: plan.row.name,
    options: plan.row.options,
    checkpoint: plan.row.checkpoint ?? null,
    edits: plan.edits,
    protocol: config.protocol,
    seed: config.seed,
    cases: cellRequests(plan, context).map((request) => request.id),
    model: context.sharedParams.model.sha256,
    data: context.sharedParams.dataset.sha256,
    general: context.generalTasks.map((task) => [task.name, task.items.length]),
    generalChunks: config.general?.chunks ?? 0,
  };
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/**
 * Runs one cell, resuming after its last recorded chunk if it was interrupted; a finished cell is
 * left as it is. A MissingArtifactError from the editor's factory propagates (the caller skips the row).
 */
export async function runCompareCell(plan: CellPlan, context: CellContext, onEdits: (done: number) => void, onNote: (line: string) => void = () => undefined): Promise<CellOutcome> {
  const store = new CellStore(plan.directory);
  const key = cellKey(plan, context);
  const { config } = context;
  const params = {
    ...context.sharedParams,
    command: `recipe-kit compare --config ${path.relative(process.cwd(), config.file) || config.file}`,
    editor: plan.label,
    editorName: plan.row.name,
    checkpoint: plan.row.checkpoint ?? null,
    editorOptions: plan.row.options,
    edits: config.protocol === 'single' ? 1 : plan.edits,
    date: new Date().toISOString(),
  };
  // params.json's record of what was computed also explains a refusal (which setting differs).
  await store.checkKey(key, params);
  if (store.finished) return { status: 'done-before', resumedAtChunk: 0 };
  const model = await loadModel(config.model, config.tokenizer ? { tokenizer: config.tokenizer } : {});
  try {
    const editor = await createEditor(plan.row.name, model, {
      modelDirectory: config.model,
      ...(plan.row.checkpoint !== undefined ? { checkpoint: plan.row.checkpoint } : {}),
      options: plan.row.options,
    });
    try {
      const progress = await store.open(key, params);
      const chunks = [...progress.chunks];
      const cases = [...progress.cases];
      const firstChunk = chunks.length;
      const requests = cellRequests(plan, context);
      const total = chunkRequests(requests, plan.edits, config.seed).length;
      onEdits(firstChunk * plan.edits);
      // The scored chunk's counts, handed from onChunkScored to afterChunk (which adds general ability and records it).
      const scored = { cases: 0, probes: 0, seconds: 0 };
      await runEditProtocol(editor, requests, {
        protocol: config.protocol,
        edits: plan.edits,
        seed: config.seed,
        firstChunk,
        ...(config.batchSize !== undefined ? { batchSize: config.batchSize } : {}),
        onProgress: (event) => {
          if (event.kind === 'edit') onEdits(event.chunk * plan.edits + (config.protocol === 'batch' ? plan.edits : event.done));
        },
        onChunkScored: async (_chunk, chunkCases, timing) => {
          cases.push(...chunkCases);
          Object.assign(scored, { cases: chunkCases.length, ...timing });
          await store.appendCases(chunkCases);
        },
        afterChunk: async (chunk) => {
          const general: Record<string, number> = {};
          if (chunk < (config.general?.chunks ?? 0)) {
            for (const task of context.generalTasks) {
              try {
                general[task.name] = (await scoreGeneralAbility(editor, task, config.batchSize)).score;
              } catch (error) {
                // An editor's prefix can push a long item past the context (RECIPE w/o CPT prefixes the fact's words): that task has no score for this row, said aloud.
                if (!(error instanceof ContextOverflowError)) throw error;
                onNote(`compare: ${plan.label} T=${plan.edits}: general-ability task ${task.name} not scored: ${error.message.split('\n')[0] ?? ''}`);
              }
            }
          }
          const record: ChunkRecord = { chunk, cases: scored.cases, probes: scored.probes, querySeconds: scored.seconds, ...(Object.keys(general).length > 0 ? { general } : {}) };
          chunks.push(record);
          await store.appendRecord(record);
        },
      });
      const probes = chunks.reduce((sum, record) => sum + record.probes, 0);
      const summary: RunSummary = summarize(cases, {
        editor: plan.label,
        model: context.modelLabel,
        dataset: config.dataset.name,
        protocol: config.protocol,
        edits: params.edits,
        chunks: total,
        querySecondsMean: probes === 0 ? 0 : chunks.reduce((sum, record) => sum + record.querySeconds, 0) / probes,
      });
      const generalScores = new Map<string, number[]>();
      for (const record of chunks) for (const [task, score] of Object.entries(record.general ?? {})) generalScores.set(task, [...(generalScores.get(task) ?? []), score]);
      if (generalScores.size > 0) summary.general = Object.fromEntries([...generalScores].map(([task, scores]) => [task, mean(scores)]));
      await store.finish(summary, summaryMarkdown(summary));
      return { status: 'finished', resumedAtChunk: firstChunk, summary };
    } finally {
      editor.dispose();
    }
  } finally {
    model.dispose();
  }
}
