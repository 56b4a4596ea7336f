import type { CausalLanguageModel } from '@recipe-kit/core';
import { editorOption } from './editor-option.js';

/**
 * Groups of prompt templates with one `{}` where the edit prompt goes (spec §0.5). The first group
 * is always `["{}"]` (the plain prompt); the others are short texts the unedited model generated,
 * so that keys and values do not depend on the prompt starting the text.
 */
export type ContextTemplates = string[][];

export interface ContextTemplateOptions {
  /** [total length in tokens (prompt + generated), samples per seed word] per group. */
  lengths: readonly (readonly [number, number])[];
  seed: number;
  /** Words the generated texts start from. */
  seedWords?: readonly string[];
  /** Nucleus sampling (the reference samples top-5, which `generate` does not offer). */
  topP?: number;
}

/** ROME's templates: 2 samples per seed word at 5 tokens and 2 at 10 → 20 texts + the plain prompt. */
export const ROME_TEMPLATE_LENGTHS = [[5, 2], [10, 2]] as const;
/** MEMIT's: one sample per seed word at 10 tokens → 5 texts, averaged as one group against the plain prompt. */
export const MEMIT_TEMPLATE_LENGTHS = [[10, 1]] as const;
const SEED_WORDS = ['The', 'Therefore', 'Because', 'I', 'You'];

/** Generated once per model and settings (with the unedited model, as the reference caches them). */
const cache = new WeakMap<CausalLanguageModel, Map<string, ContextTemplates>>();

export async function generateContextTemplates(model: CausalLanguageModel, options: ContextTemplateOptions): Promise<ContextTemplates> {
  const key = JSON.stringify(options);
  const perModel = cache.get(model) ?? new Map<string, ContextTemplates>();
  cache.set(model, perModel);
  const cached = perModel.get(key);
  if (cached) return cached;
  const groups: ContextTemplates = [['{}']];
  let sample = 0;
  for (const [length, count] of options.lengths) {
    const group: string[] = [];
    for (const word of options.seedWords ?? SEED_WORDS) {
      const promptIds = model.tokenizer.encode(word, { addBos: true });
      for (let i = 0; i < count; i++) {
        const generated = await model.generate(promptIds, {
          maxTokens: Math.max(1, length - promptIds.length),
          temperature: 1,
          topP: options.topP ?? 0.9,
          seed: options.seed * 1000 + sample++,
        });
        const text = `${word}${generated.text}`.replace(/[{}]/g, ' ');
        group.push(`${text}. {}`);
      }
    }
    groups.push(group);
  }
  perModel.set(key, groups);
  return groups;
}

/** `--editor-option context-templates=rome|memit`: ROME's 21 templates or MEMIT's 6 (cheaper: fewer rows per v* step). */
export const CONTEXT_TEMPLATE_CHOICES = { rome: ROME_TEMPLATE_LENGTHS, memit: MEMIT_TEMPLATE_LENGTHS } as const;

/** The templates an editor factory uses: `context-templates` option, else the method's own. */
export async function contextTemplatesFromOptions(
  editor: string,
  model: CausalLanguageModel,
  options: Readonly<Record<string, string>> | undefined,
  fallback: keyof typeof CONTEXT_TEMPLATE_CHOICES,
): Promise<ContextTemplates> {
  const choice = editorOption.choice(editor, options, 'context-templates', ['rome', 'memit'] as const, fallback);
  return generateContextTemplates(model, { lengths: CONTEXT_TEMPLATE_CHOICES[choice], seed: 0 });
}
