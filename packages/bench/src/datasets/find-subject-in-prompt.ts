/**
 * The subject as spelled in the prompt, or null when the prompt does not contain it.
 * Locate-then-edit methods (ROME, MEMIT) find the subject's tokens by searching the prompt, so the
 * spelling must match exactly; a subject that differs only in case ("the Beatles" in "The Beatles
 * ...") is repaired to the prompt's spelling rather than dropped.
 */
export function findSubjectInPrompt(prompt: string, subject: string): string | null {
  if (prompt.includes(subject)) return subject;
  const at = prompt.toLowerCase().indexOf(subject.toLowerCase());
  // toLowerCase can change lengths for a few scripts; only trust the repair when it cannot have.
  if (at >= 0 && prompt.toLowerCase().length === prompt.length && subject.toLowerCase().length === subject.length) {
    return prompt.slice(at, at + subject.length);
  }
  return null;
}
