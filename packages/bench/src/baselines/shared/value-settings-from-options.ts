import { editorOption } from './editor-option.js';
import type { TargetValueSettings } from './optimise-target-value.js';

type ValueKnobs = Pick<TargetValueSettings, 'steps' | 'learningRate' | 'weightDecay' | 'clampNormFactor' | 'klFactor' | 'stopWhenArgmax'>;

/** Option keys that override the v* / z optimisation: steps, lr, weight-decay, clamp, kl, early-stop (loss | argmax). */
export const VALUE_OPTION_KEYS = ['steps', 'lr', 'weight-decay', 'clamp', 'kl', 'early-stop'] as const;

/** The defaults with any `--editor-option` overrides of the value optimisation applied. */
export function valueSettingsFromOptions<T extends ValueKnobs>(editor: string, options: Readonly<Record<string, string>> | undefined, defaults: T): T {
  return {
    ...defaults,
    steps: editorOption.integer(editor, options, 'steps', defaults.steps),
    learningRate: editorOption.number(editor, options, 'lr', defaults.learningRate),
    weightDecay: editorOption.number(editor, options, 'weight-decay', defaults.weightDecay),
    clampNormFactor: editorOption.number(editor, options, 'clamp', defaults.clampNormFactor),
    klFactor: editorOption.number(editor, options, 'kl', defaults.klFactor),
    stopWhenArgmax: editorOption.choice(editor, options, 'early-stop', ['loss', 'argmax'] as const, defaults.stopWhenArgmax ? 'argmax' : 'loss') === 'argmax',
  };
}
