/** A batch of texts as right-padded token ids with an attention mask, both [batch][seq]. */
export interface TokenizedBatch {
  inputIds: number[][];
  /** 1 for real tokens (special tokens included), 0 for padding. */
  attentionMask: number[][];
}

/**
 * What an encoder needs from a tokenizer: texts → padded ids and mask, special tokens included
 * (RoBERTa `<s> … </s>`, BERT `[CLS] … [SEP]`), each row truncated to `maxLength` tokens.
 * Inject any implementation (e.g. a WordPiece tokenizer for BERT checkpoints).
 */
export interface EncoderTokenizer {
  readonly name: string;
  /** The id used for padding (RoBERTa `<pad>` = 1, BERT `[PAD]` = 0). */
  readonly padId: number;
  tokenize(texts: readonly string[], maxLength: number): TokenizedBatch;
  /** Writes the files that recreate this tokenizer into `dir`; absent where it has none. */
  save?(dir: string): Promise<void>;
}

/** Right-pads id sequences to the longest one with `padId`, and builds the matching mask. */
export function padTokenSequences(sequences: readonly number[][], padId: number): TokenizedBatch {
  const length = Math.max(1, ...sequences.map((ids) => ids.length));
  return {
    inputIds: sequences.map((ids) => [...ids, ...new Array<number>(length - ids.length).fill(padId)]),
    attentionMask: sequences.map((ids) => [...new Array<number>(ids.length).fill(1), ...new Array<number>(length - ids.length).fill(0)]),
  };
}
