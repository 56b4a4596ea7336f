import { describe } from 'vitest';
import { MalmenEditor } from '../../../src/baselines/malmen/malmen-editor.js';
import { MALMEN_METHOD } from '../../../src/baselines/malmen/malmen-method.js';
import { describeHypernetworkEditor } from '../hypernetwork/hypernetwork-editor-conformance.js';

describe('MALMEN', () => {
  // Untrained, the shifts are −η ‖k‖² δ and a small λ makes K ΔW = D: the shift along −δ that moves this argmax.
  describeHypernetworkEditor({ definition: MALMEN_METHOD, create: (model, network, options) => new MalmenEditor(model, network, options), strongScalars: { edit_lr: 1, log_lambda: -4 } });
});
