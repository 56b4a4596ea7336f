import type { SecondMoment } from './collect-second-moments.js';
import { regulariseSecondMoment } from './regularise-second-moment.js';
import { spdInverse } from './spd-inverse.js';

/** (C + ε·(tr C / f)·I)⁻¹ in float64, computed once per layer and reused by every edit. */
export function inverseSecondMoment(moment: SecondMoment, epsilon: number): Float64Array {
  return spdInverse(regulariseSecondMoment(moment.matrix, moment.dimension, epsilon), moment.dimension);
}
