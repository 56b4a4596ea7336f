/** Index of the largest value (first on ties); -1 for an empty list. */
export function argmaxIndex(values: readonly number[]): number {
  let best = -1;
  values.forEach((value, i) => {
    if (best < 0 || value > (values[best] as number)) best = i;
  });
  return best;
}
