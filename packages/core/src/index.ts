export * from './errors.js';
export * from './backend/select-backend.js';
export { patchWasmBatchMatMul, registerWasmUnsortedSegmentSum } from './backend/wasm-kernel-fixes.js';
export type * from './contracts/tokenizer.js';
export type * from './contracts/causal-language-model.js';
export { resolveDataDirectory } from './data-directory.js';
export type * from './contracts/edit-request.js';
export type * from './contracts/editor.js';
