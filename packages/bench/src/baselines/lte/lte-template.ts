import type { Tokenizer } from '@recipe-kit/core';

/** LTE's instruction (Jiang et al., ACL 2024; the released training data and evaluation). */
export const LTE_INSTRUCTION = 'Please acknowledge the updated information provided below and respond to the subsequent question.';

/** The text before the question: the instruction and the facts (one alone, several numbered). */
export function lteTemplateHead(facts: readonly string[]): string {
  const block = facts.length === 1 ? (facts[0] as string) : facts.map((fact, i) => `${i + 1}. ${fact}`).join('\n');
  return `${LTE_INSTRUCTION}\n\n[Updated Information]:\n${block}\n\n[Question]:\n`;
}

/**
 * Token ids of the templated question: the head tokenized on its own (with BOS), then the question's
 * own context ids without their BOS. Training and editing both build contexts this way, so the
 * question and answer keep exactly the ids they have without the template (no merge across the seam).
 * With no facts the question stands alone (LTE's "without template" items).
 */
export function lteContext(tokenizer: Tokenizer, facts: readonly string[], questionContext: readonly number[]): number[] {
  if (facts.length === 0) return [...questionContext];
  const question = tokenizer.bosId !== null && questionContext[0] === tokenizer.bosId ? questionContext.slice(1) : questionContext;
  return [...tokenizer.encode(lteTemplateHead(facts), { addBos: true }), ...question];
}
