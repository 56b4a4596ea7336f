import { createRandom, tokenizeProbe, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { FactMemory, factText } from './fact-memory.js';
import { lteContext } from './lte-template.js';

/** One fine-tuning row: the ids, and where the scored answer starts. */
export interface LteTrainingExample {
  ids: number[];
  /** Index of the first answer token (the loss scores only the answer, as FastChat's assistant mask). */
  answerStart: number;
  kind: LteExampleKind;
}

export type LteExampleKind = 'in-scope with facts' | 'in-scope without facts' | 'out-of-scope with facts' | 'out-of-scope without facts';

export interface LteTrainingSet {
  examples: LteTrainingExample[];
  /** Edits skipped because the model cannot emit one of their answers (compact vocabulary) or has no locality probe. */
  skippedEdits: number;
  /** Rows dropped because they exceed the model's context. */
  overlong: number;
  counts: Record<LteExampleKind, number>;
}

export interface LteTrainingSetOptions {
  seed: number;
  /** Probability that the in-scope question is the edit prompt rather than a rephrase (LTE: 0.3). */
  promptProbability?: number;
  /** Nearest other-subject facts the distractors are drawn from (LTE: top 5). */
  distractorPool?: number;
}

/**
 * LTE's alignment data (create_train_data.ipynb) built from a training split of edits. Per edit:
 * - in-scope with facts: the fact (alone with p 0.5, else with 1 or 2 distractors, p 0.25 each, drawn
 *   from its 5 nearest other-subject facts, the true fact listed first) and the edit prompt (p 0.3) or
 *   a rephrase → the new target;
 * - in-scope without facts: the same question bare → the original answer (ground truth);
 * - out-of-scope with facts: the same facts and a locality prompt → its original answer (an
 *   irrelevant fact must be ignored);
 * - out-of-scope without facts: the locality prompt bare → its original answer.
 * Original answers are the dataset's gold answers, as LTE's (which falls back to GPT-4 completions
 * where no gold exists). WizardLM instruction data has no counterpart here.
 */
export function buildLteTrainingSet(model: CausalLanguageModel, memory: FactMemory, requests: readonly EditRequest[], options: LteTrainingSetOptions): LteTrainingSet {
  const random = createRandom(options.seed);
  const tokenizer = model.tokenizer;
  const emittable = (ids: readonly number[]): boolean => model.outputIds === null || ids.every((id) => outputSet(model).has(id));
  const counts: Record<LteExampleKind, number> = { 'in-scope with facts': 0, 'in-scope without facts': 0, 'out-of-scope with facts': 0, 'out-of-scope without facts': 0 };
  const examples: LteTrainingExample[] = [];
  let skippedEdits = 0;
  let overlong = 0;
  const push = (kind: LteExampleKind, context: number[], answer: readonly number[]): void => {
    if (context.length + answer.length > model.dimensions.contextLength) {
      overlong++;
      return;
    }
    examples.push({ ids: [...context, ...answer], answerStart: context.length, kind });
    counts[kind]++;
  };
  const questions = requests.map((request) => {
    const rephrases = request.generality;
    return random() < (options.promptProbability ?? 0.3) || rephrases.length === 0 ? request.prompt : (rephrases[Math.floor(random() * rephrases.length)]?.prompt as string);
  });
  const localities = requests.map((request) => request.locality[Math.floor(random() * request.locality.length)]);
  for (const [i, request] of requests.entries()) {
    const locality = localities[i];
    if (!locality) {
      skippedEdits++;
      continue;
    }
    const truth = tokenizeProbe(tokenizer, questions[i] as string, request.groundTruth ?? request.targetNew);
    const outOfScope = tokenizeProbe(tokenizer, locality.prompt, locality.target);
    const inScope = tokenizeProbe(tokenizer, questions[i] as string, request.targetNew);
    if (![inScope, truth, outOfScope].every((probe) => emittable(probe.continuation))) {
      skippedEdits++;
      continue;
    }
    const facts = [factText(request), ...distractors(memory, request, random, options.distractorPool ?? 5)];
    push('in-scope with facts', lteContext(tokenizer, facts, inScope.context), inScope.continuation);
    push('in-scope without facts', [...truth.context], truth.continuation);
    push('out-of-scope with facts', lteContext(tokenizer, facts, outOfScope.context), outOfScope.continuation);
    push('out-of-scope without facts', [...outOfScope.context], outOfScope.continuation);
  }
  return { examples, skippedEdits, overlong, counts };
}

/** 0 distractors with p 0.5, 1 or 2 with p 0.25 each, drawn without replacement from the nearest other-subject facts. */
function distractors(memory: FactMemory, request: EditRequest, random: () => number, pool: number): string[] {
  const draw = random();
  const count = draw < 0.5 ? 0 : draw < 0.75 ? 1 : 2;
  if (count === 0) return [];
  const candidates = memory
    .search(factText(request), pool + 8)
    .filter((fact) => fact.id !== request.id && fact.request.subject !== request.subject)
    .slice(0, pool)
    .map((fact) => fact.text);
  const chosen: string[] = [];
  while (chosen.length < count && candidates.length > 0) chosen.push(candidates.splice(Math.floor(random() * candidates.length), 1)[0] as string);
  return chosen;
}

const outputSets = new WeakMap<CausalLanguageModel, Set<number>>();
function outputSet(model: CausalLanguageModel): Set<number> {
  let set = outputSets.get(model);
  if (!set) {
    set = new Set(model.outputIds ?? []);
    outputSets.set(model, set);
  }
  return set;
}
