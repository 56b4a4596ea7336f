/**
 * A target without surrounding blanks. Some files carry a leading space (zsRE has " MAT-49"),
 * but EditRequest targets are stored bare because metrics build `prompt + " " + target` themselves;
 * a kept space would become a double space and a different first token.
 */
export function normaliseTarget(target: string): string {
  return target.trim();
}
