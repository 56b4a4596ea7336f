/** RECIPE's instruction line for CSQA and MMLU (evaluation/llm_general_eval.py), newline included. */
export const multipleChoiceInstruction = 'Please select the correct answer for the following questions:\n';

/**
 * RECIPE's multiple-choice template, character for character:
 * "Please select the correct answer for the following questions:\n" + question + "\n"
 * + "(A) text\n(B) text…" + "\nAnswer: (" — the model's next token is scored against the labels.
 */
export function multipleChoicePrompt(question: string, choices: ReadonlyArray<{ label: string; text: string }>): string {
  return `${multipleChoiceInstruction}${question}\n${choices.map((choice) => `(${choice.label}) ${choice.text}`).join('\n')}\nAnswer: (`;
}
