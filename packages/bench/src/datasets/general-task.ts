import type { GeneralAbilityTask } from '@recipe-kit/core';

/** The two kinds of GeneralAbilityTask, named so each loader can promise the kind it returns. */
export type MultipleChoiceTask = Extract<GeneralAbilityTask, { kind: 'multiple-choice' }>;
export type GenerativeTask = Extract<GeneralAbilityTask, { kind: 'generative' }>;
