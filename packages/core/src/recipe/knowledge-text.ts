/**
 * The knowledge text k of an edit: `prompt + " " + target`, with the space left out when the prompt
 * already ends with one or the target starts with one (reference `edit_one_piece`).
 */
export function knowledgeText(prompt: string, target: string): string {
  return prompt.endsWith(' ') || target.startsWith(' ') ? `${prompt}${target}` : `${prompt} ${target}`;
}
