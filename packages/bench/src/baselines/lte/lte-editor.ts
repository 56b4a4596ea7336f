import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ContextOverflowError,
  InvalidInputError,
  type CausalLanguageModel,
  type ContinuationScore,
  type EditRequest,
  type Editor,
  type QueryContinuation,
} from '@recipe-kit/core';
import type { BagOfWordsEncoder } from './bag-of-words-encoder.js';
import { FactMemory, type RetrievedFact } from './fact-memory.js';
import { lteContext } from './lte-template.js';

export interface LteEditorOptions {
  /** The LTE-aligned model (fine-tuned by `recipe-kit train-lte`); any causal LM works for tests. */
  model: CausalLanguageModel;
  /** The fact retriever's sentence encoder (fitted on the training split). */
  encoder: BagOfWordsEncoder;
  /** Facts put in front of a query: LTE's sequential-editing config retrieves k = 1. */
  topK?: number;
  /** Dispose the model with the editor (the factory loads the aligned model for the editor alone). */
  ownsModel?: boolean;
}

const STATE_FILE = 'lte-editor.json';

/**
 * LTE (Learning to Edit, Jiang et al. ACL 2024) at inference: an edit only stores its fact
 * (`prompt + " " + target`); every query retrieves the top-k stored facts (no relevance threshold,
 * as the paper) and is answered by the aligned model under LTE's "[Updated Information] …
 * [Question] …" template. The weights never change; with nothing stored a query runs bare.
 */
export class LteEditor implements Editor {
  readonly name = 'lte';
  readonly model: CausalLanguageModel;
  readonly topK: number;
  private readonly memory: FactMemory;
  private edits = 0;

  constructor(private readonly options: LteEditorOptions) {
    this.model = options.model;
    this.topK = options.topK ?? 1;
    if (!Number.isInteger(this.topK) || this.topK < 1) throw new InvalidInputError(`LTE top-k is ${String(options.topK)}.`, 'Pass a positive integer (LTE uses 1).');
    this.memory = new FactMemory(options.encoder);
  }

  get editCount(): number {
    return this.edits;
  }

  async edit(requests: readonly EditRequest[]): Promise<void> {
    for (const request of requests) {
      if (request.prompt.trim().length === 0 || request.targetNew.trim().length === 0) {
        throw new InvalidInputError(`Edit ${request.id} has an empty ${request.prompt.trim().length === 0 ? 'prompt' : 'target'}.`, 'Give every edit a prompt and a new target.');
      }
    }
    await this.memory.add(requests);
    this.edits += requests.length;
  }

  async restore(): Promise<void> {
    await this.memory.clear();
    this.edits = 0;
  }

  /** The facts a query would be shown, best first (empty when nothing is stored). */
  retrieve(query: string): RetrievedFact[] {
    return this.memory.search(query, this.topK);
  }

  /** The request as the aligned model reads it: the retrieved facts and the question in LTE's template. */
  templated(request: QueryContinuation): QueryContinuation {
    const facts = this.retrieve(request.queryText).map((fact) => fact.text);
    const context = lteContext(this.model.tokenizer, facts, request.context);
    const length = context.length + request.continuation.length;
    if (length > this.model.dimensions.contextLength) {
      throw new ContextOverflowError(
        `The LTE-templated query ${JSON.stringify(request.queryText)} needs ${length} positions; the model has ${this.model.dimensions.contextLength}.`,
        'Use shorter prompts/facts (or --skip-overlong with enough room), or a model with a longer context.',
      );
    }
    return { ...request, context };
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    return this.model.scoreContinuations(requests.map((request) => this.templated(request)));
  }

  async save(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    await this.memory.save(directory);
    await writeFile(path.join(directory, STATE_FILE), `${JSON.stringify({ editor: this.name, topK: this.topK, editCount: this.edits })}\n`);
  }

  async load(directory: string): Promise<void> {
    const file = path.join(directory, STATE_FILE);
    const state = JSON.parse(await readFile(file, 'utf8')) as { editor?: unknown; editCount?: unknown };
    if (state.editor !== this.name || typeof state.editCount !== 'number') {
      throw new InvalidInputError(`${file} is not a saved state of the "${this.name}" editor.`, 'Load a directory written by this editor\'s save().');
    }
    await this.memory.load(directory);
    this.edits = state.editCount;
  }

  dispose(): void {
    this.memory.dispose();
    if (this.options.ownsModel) this.model.dispose();
  }
}
