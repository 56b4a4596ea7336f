import { describe, expect, it } from 'vitest';
import { ByteLevelBpeTokenizer } from '../src/index.js';
import { tinyRobertaTokenizerFiles } from './support/tiny-bert-fixture.js';

describe('ByteLevelBpeTokenizer', () => {
  const files = tinyRobertaTokenizerFiles();
  const tokenizer = new ByteLevelBpeTokenizer(files);
  const vocab = JSON.parse(files.vocabJson) as Record<string, number>;

  it('applies merges by rank and maps bytes through the GPT-2 byte table', () => {
    expect(tokenizer.encodeText('hello the')).toEqual([vocab['hello'], vocab['Ġthe']]);
    // "é" is two UTF-8 bytes (0xC3 0xA9) → the byte characters "Ã" and "©".
    expect(tokenizer.encodeText('é')).toEqual([vocab['Ã'], vocab['©']]);
    // Runs of spaces: all but the last space form their own piece (GPT-2's \s+(?!\S)).
    expect(tokenizer.encodeText('a   the')).toEqual([vocab['a'], vocab['Ġ'], vocab['Ġ'], vocab['Ġthe']]);
    expect(tokenizer.encodeText("he's")).toEqual([vocab['he'], vocab["'"], vocab['s']]);
  });

  it('adds <s> … </s>, truncates keeping </s>, and pads with <pad>', () => {
    const batch = tokenizer.tokenize(['hello hello hello', 'the'], 4);
    expect(batch.inputIds).toEqual([
      [0, vocab['hello'], vocab['Ġ'], 2],
      [0, vocab['t'], vocab['he'], 2],
    ]);
    const padded = tokenizer.tokenize(['hello the', ''], 10);
    expect(padded.inputIds[1]).toEqual([0, 2, 1, 1]);
    expect(padded.attentionMask).toEqual([[1, 1, 1, 1], [1, 1, 0, 0]]);
  });
});
