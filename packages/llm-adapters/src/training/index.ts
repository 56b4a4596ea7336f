export { LanguageModelTrainer } from './language-model-trainer.js';
export type { TrainerOptions, StepReport } from './language-model-trainer.js';
export { cosineLearningRate } from './learning-rate-schedule.js';
