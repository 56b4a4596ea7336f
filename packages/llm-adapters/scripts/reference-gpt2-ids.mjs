// Reference GPT-2 (r50k_base) token ids from js-tiktoken, a port of OpenAI's tiktoken.
//
// Our GPT-2 tokenizer wraps `gpt-tokenizer`; js-tiktoken is a separate codebase with its own copy of the
// ranks, so agreement between the two is evidence, not a tautology. Never compute this fixture with our code.
//
// Usage (from packages/llm-adapters): node scripts/reference-gpt2-ids.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'js-tiktoken/lite';
import r50kBase from 'js-tiktoken/ranks/r50k_base';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDirectory = path.dirname(here);
const packageJson = JSON.parse(
  readFileSync(path.join(packageDirectory, 'node_modules/js-tiktoken/package.json'), 'utf8'),
);

// The same sentences as the LLaMA-2 reference, plus ones that exercise GPT-2's pre-tokenizer regex.
const sentences = [
  ...JSON.parse(readFileSync(path.join(here, 'reference-sentences.json'), 'utf8')),
  ' Hello world',
  "I'm sure they'll say it's fine, don't you think? We've seen it.",
  '<|endoftext|> is plain text here',
];

const encoding = new Tiktoken(r50kBase);
// disallowedSpecial = [] makes `<|endoftext|>` in the text ordinary text, the behaviour our tokenizer chose.
const cases = sentences.map((text) => ({ text, ids: encoding.encode(text, [], []) }));

const fixture = {
  description: 'GPT-2 / GPT-J BPE (r50k_base) token ids; independent reference for gpt2-tokenizer.ts',
  generator: 'packages/llm-adapters/scripts/reference-gpt2-ids.mjs',
  command: 'cd packages/llm-adapters && node scripts/reference-gpt2-ids.mjs',
  reference: `js-tiktoken@${packageJson.version} (js-tiktoken/ranks/r50k_base), special tokens encoded as plain text`,
  vocabSize: 50257,
  eosId: 50256,
};
const header = Object.entries(fixture).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
const body = cases.map((entry) => `    ${JSON.stringify(entry)}`);
const outPath = path.join(packageDirectory, 'test/tokenizers/fixtures/gpt2-reference-ids.json');
// One case per line, so a regenerated fixture diffs sentence by sentence.
writeFileSync(outPath, `{\n${header.join('\n')}\n  "cases": [\n${body.join(',\n')}\n  ]\n}\n`);
console.log(`wrote ${cases.length} cases to ${outPath} (js-tiktoken ${packageJson.version})`);
