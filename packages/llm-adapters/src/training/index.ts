export { LanguageModelTrainer } from './language-model-trainer.js';
export type { TrainerOptions, StepReport } from './language-model-trainer.js';
export { AdamOptimizer } from './adam-optimizer.js';
export { cosineLearningRate } from './learning-rate-schedule.js';
