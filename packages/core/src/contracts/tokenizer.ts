/** A tokenizer behind one interface, whatever its format (SentencePiece, BPE, llama2.c). */
export interface Tokenizer {
  /** A short name for logs and result files, e.g. `llama2-sentencepiece`. */
  readonly name: string;
  readonly vocabSize: number;
  /** Beginning-of-sequence id, or null when the format has none (GPT-2). */
  readonly bosId: number | null;
  /** End-of-sequence id, or null when the format has none. */
  readonly eosId: number | null;
  /** Token ids for `text`; `addBos` prepends the BOS id where the tokenizer has one (default true). */
  encode(text: string, options?: { addBos?: boolean }): number[];
  /** Text for ids; BOS/EOS ids are dropped. */
  decode(ids: readonly number[]): string;
}
