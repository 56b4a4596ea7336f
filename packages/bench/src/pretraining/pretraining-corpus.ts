import { createHash } from 'node:crypto';
import { InvalidInputError, type EditRequest } from '@recipe-kit/core';
import { loadCounterfact } from '../datasets/index.js';
import { createSyntheticEditsFile, generateSyntheticWorld } from '../synthetic-world/index.js';

/** A named set of (prompt, answer) pairs whose pre-edit accuracy the model README reports. */
export interface KnowledgeCheck {
  name: string;
  items: { prompt: string; target: string }[];
}

export interface PretrainingCorpus {
  name: string;
  description: string;
  /** One training example per line. */
  lines: string[];
  /** Texts the model must be able to emit though it never trains on them (counterfactual targets). */
  vocabularyTexts: string[];
  knowledgeChecks: KnowledgeCheck[];
  /** Files written beside the model (e.g. the synthetic world and its edits). */
  artifacts: Record<string, unknown>;
  sha256: string;
}

export interface CorpusOptions {
  seed: number;
  /** CounterFact: the directory or files holding both splits. */
  data?: string;
  /** CounterFact: records taken from the start of each split. */
  records?: number;
}

function finish(corpus: Omit<PretrainingCorpus, 'sha256'>): PretrainingCorpus {
  return { ...corpus, sha256: createHash('sha256').update(corpus.lines.join('\n')).digest('hex') };
}

async function syntheticCorpus(options: CorpusOptions): Promise<PretrainingCorpus> {
  const world = generateSyntheticWorld({ seed: options.seed });
  const probes = world.knowledgeProbes();
  const edits = createSyntheticEditsFile(world, { count: world.subjects.length - 40 });
  return finish({
    name: 'synthetic',
    description: `synthetic world (seed ${options.seed}): ${world.subjects.length} subjects, ${world.relations.length} relations, ${world.facts.length} facts`,
    lines: world.pretrainingCorpus(),
    vocabularyTexts: edits.requests.map((request) => `${request.prompt} ${request.targetNew}.`),
    knowledgeChecks: [
      { name: 'facts under training templates', items: probes.filter((p) => p.split === 'train') },
      { name: 'facts under held-out paraphrases', items: probes.filter((p) => p.split === 'held-out') },
    ],
    artifacts: { 'synthetic-world.json': world.toJson(), 'synthetic-edits.json': edits },
  });
}

/** The true statements of CounterFact (never the counterfactual targets), with paraphrases and neighbours. */
async function counterfactCorpus(options: CorpusOptions): Promise<PretrainingCorpus> {
  if (!options.data) {
    throw new InvalidInputError('The counterfact corpus needs --data (the CounterFact directory).', 'Pass --data ../shared/data/editing/counterfact');
  }
  const records = options.records ?? 600;
  const splits: EditRequest[] = [];
  for (const split of ['eval', 'train'] as const) splits.push(...(await loadCounterfact(options.data, { split, limit: records })));
  const lines: string[] = [];
  const known: { prompt: string; target: string }[] = [];
  const paraphrased: { prompt: string; target: string }[] = [];
  const neighbours: { prompt: string; target: string }[] = [];
  for (const request of splits) {
    const truth = request.groundTruth;
    if (!truth) continue;
    lines.push(`${request.prompt} ${truth}.`);
    known.push({ prompt: request.prompt, target: truth });
    for (const probe of request.generality) {
      lines.push(`${probe.prompt} ${truth}.`);
      paraphrased.push({ prompt: probe.prompt, target: truth });
    }
    for (const probe of request.locality) {
      lines.push(`${probe.prompt} ${probe.target}.`);
      neighbours.push(probe);
    }
  }
  return finish({
    name: 'counterfact',
    description: `CounterFact true statements: the first ${records} records of the eval and train splits (${splits.length} facts, their paraphrases and neighbourhood prompts)`,
    lines,
    vocabularyTexts: splits.map((request) => `${request.prompt} ${request.targetNew}.`),
    knowledgeChecks: [
      { name: 'true targets of the edit prompts', items: known },
      { name: 'true targets of the paraphrases', items: paraphrased },
      { name: 'neighbourhood prompts', items: neighbours },
    ],
    artifacts: {},
  });
}

export const CORPORA = { synthetic: syntheticCorpus, counterfact: counterfactCorpus } as const;
export type CorpusName = keyof typeof CORPORA;

export async function buildCorpus(name: string, options: CorpusOptions): Promise<PretrainingCorpus> {
  if (!Object.hasOwn(CORPORA, name)) {
    throw new InvalidInputError(`There is no pretraining corpus named "${name}".`, `Use one of: ${Object.keys(CORPORA).join(', ')}.`);
  }
  return CORPORA[name as CorpusName](options);
}
