import { regulariseSecondMoment } from '../shared/regularise-second-moment.js';
import { spdSolve } from '../shared/spd-solve.js';

/**
 * One MEMIT layer's update in the model's [in, out] layout (spec §5.2 step B.4–5):
 * ΔWᵀ = X R_lᵀ with X = (λC + K Kᵀ)⁻¹ K, i.e. ΔW = R_l Kᵀ (λC + K Kᵀ)⁻¹ in PyTorch's [out, in].
 * keys: K as n rows of f ([n, f]); residuals: R_l as n rows of d ([n, d]). Returns [f, d] row-major, float64.
 */
export function memitLayerUpdate(
  secondMoment: Float64Array,
  f: number,
  keys: Float64Array,
  residuals: Float64Array,
  n: number,
  d: number,
  lambda: number,
  epsilon: number,
): Float64Array {
  const system = regulariseSecondMoment(secondMoment, f, epsilon);
  for (let i = 0; i < f * f; i++) system[i] = lambda * (system[i] as number);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < f; i++) {
      const ki = keys[r * f + i] as number;
      if (ki === 0) continue;
      for (let j = 0; j < f; j++) system[i * f + j] = (system[i * f + j] as number) + ki * (keys[r * f + j] as number);
    }
  }
  // K as f×n (columns are keys).
  const columns = new Float64Array(f * n);
  for (let r = 0; r < n; r++) for (let i = 0; i < f; i++) columns[i * n + r] = keys[r * f + i] as number;
  const x = spdSolve(system, f, columns, n); // [f, n]
  const update = new Float64Array(f * d);
  for (let i = 0; i < f; i++) {
    for (let r = 0; r < n; r++) {
      const xi = x[i * n + r] as number;
      for (let j = 0; j < d; j++) update[i * d + j] = (update[i * d + j] as number) + xi * (residuals[r * d + j] as number);
    }
  }
  return update;
}
