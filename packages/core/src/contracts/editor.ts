import type { CausalLanguageModel, ContinuationRequest, ContinuationScore } from './causal-language-model.js';
import type { EditRequest } from './edit-request.js';

/** A teacher-forced scoring request plus the query's text (retrieval-based editors key on it). */
export interface QueryContinuation extends ContinuationRequest {
  /** The question as text (the prompt without the scored continuation). */
  queryText: string;
}

/**
 * The model as an editor presents it: weight editors score with the (changed) model itself;
 * prompt-injecting editors (RECIPE, LTE) decide per query what to put in front of it.
 */
export interface EditedModel {
  /** The underlying language model (its tokenizer defines the ids of every request). */
  readonly model: CausalLanguageModel;
  /**
   * Teacher-forced scores of each request on the edited model. Asynchronous where the editor
   * retrieves from a store first (RECIPE, LTE, RASE); weight editors may answer synchronously.
   */
  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] | Promise<ContinuationScore[]>;
}

/**
 * A knowledge editor. Lifelong semantics: `edit` calls accumulate until `restore`, which returns
 * the model to its unedited state (bit-identical weights, empty memory).
 */
export interface Editor extends EditedModel {
  /** Registry name, e.g. `none`, `recipe`, `rome`. */
  readonly name: string;
  /** Applies the requests (one batch); later calls build on earlier ones. */
  edit(requests: readonly EditRequest[]): Promise<void>;
  /** Undoes every edit since construction or the last restore. */
  restore(): Promise<void>;
  /** Number of edits currently applied. */
  readonly editCount: number;
  /** Writes the edit state (weight deltas, codebook, repository) to a directory. */
  save(directory: string): Promise<void>;
  /** Reads an edit state written by `save` for the same model. */
  load(directory: string): Promise<void>;
  /** Frees what the editor holds (not the model). */
  dispose(): void;
}
