import { it } from 'vitest';
import { loadModel } from '../../src/index.js';
import { useTestBackend } from '../support/backend.js';
import { sharedDataPath } from '../support/shared-data.js';
import { Llama2cReference } from './llama2c-reference.js';
it('diag', async () => {
  await useTestBackend();
  const d = sharedDataPath('models', 'stories260K');
  const model = await loadModel(`${d}/stories260K.bin`, { tokenizer: `${d}/tok512.bin` });
  const ref = Llama2cReference.fromFile(`${d}/stories260K.bin`);
  const r = ref.greedy([1], 260, {});
  console.log(JSON.stringify(r.ids.slice(250).map((i) => [i, model.tokenizer.decode([i])])));
  console.log(JSON.stringify(model.tokenizer.decode([1, ...r.ids.slice(0,255)]).slice(-40)), JSON.stringify(model.tokenizer.decode([1, ...r.ids.slice(0,256)]).slice(-40)));
});
