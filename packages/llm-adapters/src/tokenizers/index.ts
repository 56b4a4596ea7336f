export { createLlama2Tokenizer } from './llama2-tokenizer.js';
export { createGpt2Tokenizer } from './gpt2-tokenizer.js';
export { loadLlama2cTokenizer } from './llama2c-tokenizer.js';
