import { describe } from 'vitest';
import { MendEditor } from '../../../src/baselines/mend/mend-editor.js';
import { MEND_METHOD } from '../../../src/baselines/mend/mend-method.js';
import { describeHypernetworkEditor } from '../hypernetwork/hypernetwork-editor-conformance.js';

describe('MEND', () => {
  // Untrained, the network is the identity, so an edit is W − α ∇W: a large α makes one step decisive.
  describeHypernetworkEditor({ definition: MEND_METHOD, create: (model, network, options) => new MendEditor(model, network, options), strongScalars: { edit_lr: 5 } });
});
