import { hypernetworkTrainingCommand } from '../baselines/hypernetwork/hypernetwork-training-command.js';
import { MALMEN_METHOD } from '../baselines/malmen/malmen-method.js';

export const trainMalmenCommand = hypernetworkTrainingCommand(MALMEN_METHOD, 'Meta-train MALMEN\'s hypernetwork (least-squares aggregation of many edits) against a frozen LLM; resumable, seeded.');
