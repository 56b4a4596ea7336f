import { InvalidDatasetError, type EditRequest, type GeneralAbilityTask } from '@recipe-kit/core';
import { loadAnli, type AnliRound } from './load-anli.js';
import { counterfactSplits, loadCounterfact } from './load-counterfact.js';
import { loadCsqa } from './load-csqa.js';
import { loadMmlu, mmluSplits } from './load-mmlu.js';
import { loadRipe } from './load-ripe.js';
import { loadSquad2 } from './load-squad2.js';
import { loadZsre } from './load-zsre.js';
import { loadSyntheticEdits } from '../synthetic-world/index.js';
import { oneOf, type LoaderOptions } from './loader-options.js';
import type { SubjectMismatchOptions } from './resolve-subject.js';

/**
 * Options as they arrive from the CLI or a config: free strings, narrowed by each loader
 * (an option a dataset does not have is ignored).
 */
export interface DatasetLoadOptions extends LoaderOptions, SubjectMismatchOptions {
  /** counterfact: 'eval' | 'train' (directory); mmlu: 'test' | 'dev' | 'val'. */
  split?: string;
  /** mmlu: subject names. */
  subjects?: string[];
  /** anli: rounds to load from a directory. */
  rounds?: AnliRound[];
}

export interface EditDatasetEntry {
  kind: 'edit';
  description: string;
  load(path: string, options: DatasetLoadOptions): Promise<EditRequest[]>;
}

export interface GeneralTaskEntry {
  kind: 'general';
  description: string;
  load(path: string, options: DatasetLoadOptions): Promise<GeneralAbilityTask>;
}

export type DatasetEntry = EditDatasetEntry | GeneralTaskEntry;

/** Copies only the options a loader knows, so exactOptionalPropertyTypes-style undefineds never leak in. */
function common(options: DatasetLoadOptions): LoaderOptions & SubjectMismatchOptions {
  return {
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.subjectMismatch !== undefined ? { subjectMismatch: options.subjectMismatch } : {}),
    ...(options.onSkip !== undefined ? { onSkip: options.onSkip } : {}),
  };
}

/** Every dataset the CLI can name, keyed by that name. */
export const datasetRegistry = {
  counterfact: {
    kind: 'edit',
    description: 'CounterFact counterfactual edits (RECIPE/EasyEdit or ROME JSON; a directory takes --split eval|train)',
    load: (path, options) => loadCounterfact(path, { ...common(options), ...(options.split !== undefined ? { split: oneOf(options.split, counterfactSplits, 'split') } : {}) }),
  },
  synthetic: {
    kind: 'edit',
    description: "the project's synthetic world: an edits file (or a world file) written by recipe-kit pretrain --corpus synthetic",
    load: (path, options) => loadSyntheticEdits(path, options.limit !== undefined ? { limit: options.limit } : {}),
  },
  zsre: {
    kind: 'edit',
    description: 'zsRE question-answering edits in the MEND JSON format',
    load: (path, options) => loadZsre(path, common(options)),
  },
  ripe: {
    kind: 'edit',
    description: "RippleEdits edits in RECIPE's RIPE JSON format, with six typed ripple probes",
    load: (path, options) => loadRipe(path, common(options)),
  },
  csqa: {
    kind: 'general',
    description: 'CommonsenseQA validation (JSON Lines), 5-way multiple choice',
    load: (path, options) => loadCsqa(path, common(options)),
  },
  anli: {
    kind: 'general',
    description: 'ANLI rounds 1-3 (analysis CSV or official JSON Lines; a directory loads all rounds), 3-way NLI',
    load: (path, options) => loadAnli(path, { ...common(options), ...(options.rounds !== undefined ? { rounds: options.rounds } : {}) }),
  },
  mmlu: {
    kind: 'general',
    description: 'MMLU, 57 subjects (directory of dev/ and test/ CSVs), 4-way multiple choice',
    load: (path, options) =>
      loadMmlu(path, {
        ...common(options),
        ...(options.split !== undefined ? { split: oneOf(options.split, mmluSplits, 'split') } : {}),
        ...(options.subjects !== undefined ? { subjects: options.subjects } : {}),
      }),
  },
  squad2: {
    kind: 'general',
    description: 'SQuAD 2.0 validation (official JSON), answers scored by 1/perplexity',
    load: (path, options) => loadSquad2(path, common(options)),
  },
} as const satisfies Record<string, DatasetEntry>;

export type DatasetName = keyof typeof datasetRegistry;
export type EditDatasetName = { [Name in DatasetName]: (typeof datasetRegistry)[Name]['kind'] extends 'edit' ? Name : never }[DatasetName];
export type GeneralTaskName = Exclude<DatasetName, EditDatasetName>;

export function datasetNames(kind?: DatasetEntry['kind']): DatasetName[] {
  return (Object.keys(datasetRegistry) as DatasetName[]).filter((name) => kind === undefined || datasetRegistry[name].kind === kind);
}

/** The registry entry for a CLI name; an unknown name or a name of the other kind lists the valid ones. */
export function datasetEntry(name: string, kind: 'edit'): EditDatasetEntry;
export function datasetEntry(name: string, kind: 'general'): GeneralTaskEntry;
export function datasetEntry(name: string, kind: DatasetEntry['kind']): DatasetEntry {
  const entry: DatasetEntry | undefined = Object.hasOwn(datasetRegistry, name) ? datasetRegistry[name as DatasetName] : undefined;
  if (entry === undefined || entry.kind !== kind) {
    const valid = datasetNames(kind);
    const what = kind === 'edit' ? 'editing dataset' : 'general-ability task';
    throw new InvalidDatasetError(`Unknown ${what} "${name}".`, `Use one of: ${valid.join(', ')}.`);
  }
  return entry;
}

/** Loads an editing dataset by CLI name (counterfact, zsre, ripe). */
export async function loadEditDataset(name: string, path: string, options: DatasetLoadOptions = {}): Promise<EditRequest[]> {
  return datasetEntry(name, 'edit').load(path, options);
}

/** Loads a general-ability task by CLI name (csqa, anli, mmlu, squad2). */
export async function loadGeneralTask(name: string, path: string, options: DatasetLoadOptions = {}): Promise<GeneralAbilityTask> {
  return datasetEntry(name, 'general').load(path, options);
}
