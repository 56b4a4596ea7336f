import { useTestBackend } from '@recipe-kit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecipeEncoder } from '../../src/recipe/create-recipe-encoder.js';
import { createRecipeEditorAround, parseIndexParameters } from '../../src/editors/recipe-editor-factory.js';
import { tinyLlama, TINY_LLAMA } from './tiny-recipe-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('RECIPE index-parameters option', () => {
  it('parses NAME:NUMBER pairs and refuses anything else with the expected form', () => {
    expect(parseIndexParameters('nprobe:96,rescore:32')).toEqual({ nprobe: 96, rescore: 32 });
    for (const bad of ['nprobe=96', 'nprobe:', 'nprobe:many', 'nprobe:1:2', ':4']) {
      expect(() => parseIndexParameters(bad)).toThrow(/is not NAME:NUMBER[\s\S]*index-parameters=nprobe:96,rescore:32/);
    }
  });

  it('passes the parameters to the repository index, which refuses names its backend does not read', async () => {
    const model = await tinyLlama();
    const retriever = await createRecipeEncoder({ encoder: 'default', llmWidth: TINY_LLAMA.hidden_size, representationDim: 8, encoderVocabulary: 300, hashBuckets: 16, seed: 0 });
    await expect(createRecipeEditorAround(model, retriever, {}, 'faiss-ivf', { nprobes: 2 })).rejects.toThrow(/faiss-ivf index has no parameter "nprobes"/);
    const editor = await createRecipeEditorAround(model, retriever, {}, 'faiss-ivf', { nlist: 2, nprobe: 2, trainAt: 4 });
    editor.dispose(); // frees the retriever too
    model.dispose();
  });
});
