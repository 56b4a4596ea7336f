import { hypernetworkTrainingCommand } from '../baselines/hypernetwork/hypernetwork-training-command.js';
import { MEND_METHOD } from '../baselines/mend/mend-method.js';

export const trainMendCommand = hypernetworkTrainingCommand(MEND_METHOD, 'Meta-train MEND\'s gradient-decomposition hypernetwork against a frozen LLM (training split); resumable, seeded.');
