/** Linear warm-up to `peak`, then cosine decay to `minimum` at `totalSteps` (step counts from 1). */
export function cosineLearningRate(step: number, totalSteps: number, peak: number, minimum: number, warmupSteps: number): number {
  if (warmupSteps > 0 && step <= warmupSteps) return (peak * step) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return minimum + 0.5 * (peak - minimum) * (1 + Math.cos(Math.PI * progress));
}
