/**
 * One fact to write into a model, with the probes that check it. Every dataset (CounterFact, zsRE,
 * RippleEdits, the synthetic world) is normalised into this shape by its loader.
 */
export interface EditRequest {
  /** Stable id from the dataset (case_id, record index), used in result files and for retraction. */
  id: string;
  /** The edit prompt, e.g. "The mother tongue of Danielle Darrieux is". */
  prompt: string;
  /** The subject, a substring of `prompt` (locate-then-edit methods need it). */
  subject: string;
  /** The new object, without a leading space ("English"); metrics score `prompt + " " + targetNew`. */
  targetNew: string;
  /** The object the model believed before, where the dataset has it. */
  groundTruth?: string;
  /** Prompts that must now also yield `target`: rephrases (and RIPE's generality types). */
  generality: Probe[];
  /** Prompts that must keep the unedited model's answers (scored against its own argmax). */
  locality: Probe[];
}

/** A prompt and the continuation scored after it. */
export interface Probe {
  prompt: string;
  /** Continuation text without a leading space. For locality it only fixes which positions are scored. */
  target: string;
  /**
   * A fine-grained type where the dataset has one (RIPE: Logical_Generalization, Compositionality_I,
   * Compositionality_II, Subject_Aliasing, Relation_Specificity, Forgetfulness); otherwise
   * `rephrase` for generality and `neighborhood` for locality.
   */
  type: string;
}

/** A multiple-choice item of a general-ability benchmark, already in its prompt template. */
export interface MultipleChoiceItem {
  id: string;
  /** The full templated prompt; the answer is the next token (e.g. ends with "Answer: ("). */
  prompt: string;
  /** Option labels whose first token is compared (A–E for CSQA/MMLU; entailment/neutral/contradiction for ANLI). */
  options: string[];
  answerIndex: number;
}

/** A generative item (SQuAD 2.0): scored by 1/perplexity of `answer` after `prompt`. */
export interface GenerativeItem {
  id: string;
  prompt: string;
  answer: string;
}

export type GeneralAbilityTask =
  | { name: string; kind: 'multiple-choice'; items: MultipleChoiceItem[] }
  | { name: string; kind: 'generative'; items: GenerativeItem[] };
