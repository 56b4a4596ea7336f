import * as tf from '@tensorflow/tfjs';

/**
 * RECIPE's loss terms (spec §3.3–3.4), as the reference code computes them. Hinge masks are
 * decisions, not functions to differentiate: they are computed on detached copies.
 */

/** A copy of `x` with no gradient history (tfjs has no stop_gradient). */
export function detached<T extends tf.Tensor>(x: T): T {
  return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
}

/** Second-largest value of each row along the last axis: [..., n] → [...]. */
function secondLargest(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const top = tf.topk(x, 2).values; // [..., 2]
    return tf.squeeze(tf.slice(top, [...top.shape.slice(0, -1).map(() => 0), 1], [...top.shape.slice(0, -1), 1]), [top.rank - 1]);
  });
}

/** Σ(values·mask) / Σmask, and 0 when the mask is empty (0/0 → 0). */
function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar);
}

/**
 * Hinge token NLL for reliability and generality: positions in `mask` where the gold probability
 * p_y is below `hingeScale` × the second-largest probability contribute −log(p_y + ε); the loss is
 * their mean. logits [B, L, V], labels [B, L] int32 (column indices of `logits`), mask [B, L].
 */
export function hingeTokenNll(logits: tf.Tensor3D, labels: tf.Tensor2D, mask: tf.Tensor2D, hingeScale: number, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const probabilities = tf.exp(tf.logSoftmax(logits)); // [B, L, V]
    const goldColumns = tf.oneHot(labels.toInt(), logits.shape[2]); // [B, L, V]
    const gold = tf.sum(tf.mul(probabilities, goldColumns), 2); // [B, L]
    const active = tf.tidy(() => {
      // One read-back of the probabilities cuts the tape; gold and runner-up both come from it.
      const constant = detached(probabilities);
      return tf.mul(mask, tf.less(tf.sum(tf.mul(constant, goldColumns), 2), tf.mul(secondLargest(constant), hingeScale)).toFloat());
    });
    return maskedMean(tf.neg(tf.log(tf.add(gold, epsilon))), active);
  });
}

/**
 * Locality: KL(softmax(reference) ‖ softmax(logits)) per masked position, averaged over the mask.
 * reference [B, L, V] are the unedited model's logits (no gradient); logits [B, L, V] the edited ones.
 */
export function localityKl(logits: tf.Tensor3D, reference: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const referenceLog = tf.logSoftmax(reference);
    const kl = tf.sum(tf.mul(tf.exp(referenceLog), tf.sub(referenceLog, tf.logSoftmax(logits))), 2); // [B, L]
    return maskedMean(kl, mask);
  });
}

export interface ContrastiveInputs {
  /** q1 representations (each example's reliability or generality query) [B, d_r]. */
  firstQueries: tf.Tensor2D;
  /** q2 representations (the other of the two) [B, d_r]. */
  secondQueries: tf.Tensor2D;
  /** Locality query representations [B, d_r]. */
  localityQueries: tf.Tensor2D;
  /** Knowledge representations r_k [B, d_r]. */
  knowledge: tf.Tensor2D;
  /** Sentinel representation r_Θ [1, d_r]. */
  sentinel: tf.Tensor2D;
}

export interface ContrastiveSettings {
  queryKnowledgeTemperature: number;
  queryPrototypeTemperature: number;
  hingeScale: number;
  epsilon: number;
}

export interface ContrastiveTerms {
  /** (a) q1 → own knowledge, sentinel as an extra negative. */
  queryToKnowledge: tf.Scalar;
  /** (b) q2 → sentinel when its own knowledge is replaced by the sentinel. */
  queryToSentinel: tf.Scalar;
  /** (c) locality query → sentinel. */
  localityToSentinel: tf.Scalar;
}

/** Row-wise −log(p + ε) of `chosen` probabilities, averaged over rows whose p is below hinge × the row's runner-up. */
function hingedSelection(probabilities: tf.Tensor2D, chosen: tf.Tensor1D, hingeScale: number, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const active = tf.less(detached(chosen), tf.mul(secondLargest(detached(probabilities)), hingeScale)).toFloat();
    return maskedMean(tf.neg(tf.log(tf.add(chosen, epsilon))), active);
  });
}

/** The three sentinel-contrastive terms of spec §3.3; similarities are dot products scaled by 1/sqrt(d_r). */
export function contrastiveTerms(inputs: ContrastiveInputs, settings: ContrastiveSettings): ContrastiveTerms {
  return tf.tidy(() => {
    const [batch, dimension] = inputs.knowledge.shape;
    const scale = 1 / Math.sqrt(dimension);
    const candidates = tf.concat([inputs.knowledge, inputs.sentinel], 0); // [B+1, d_r]; sentinel last
    const identity = tf.eye(batch); // [B, B]

    const first = tf.softmax(tf.mul(tf.matMul(inputs.firstQueries, candidates, false, true), settings.queryKnowledgeTemperature * scale)); // [B, B+1]
    const own = tf.sum(tf.mul(first, tf.pad(identity, [[0, 0], [0, 1]])), 1); // S1[i, i]
    const queryToKnowledge = tf.mean(tf.neg(tf.log(tf.add(own, settings.epsilon)))) as tf.Scalar;

    const others = tf.mul(tf.matMul(inputs.secondQueries, inputs.knowledge, false, true), scale); // [B, B]
    const toSentinel = tf.mul(tf.matMul(inputs.secondQueries, inputs.sentinel, false, true), scale); // [B, 1]
    const replaced = tf.add(tf.mul(others, tf.sub(1, identity)), tf.mul(toSentinel, identity)); // own entry → sentinel
    const second = tf.softmax(tf.mul(replaced, settings.queryPrototypeTemperature)) as tf.Tensor2D;
    const queryToSentinel = hingedSelection(second, tf.sum(tf.mul(second, identity), 1) as tf.Tensor1D, settings.hingeScale, settings.epsilon);

    const locality = tf.softmax(tf.mul(tf.matMul(inputs.localityQueries, candidates, false, true), settings.queryPrototypeTemperature * scale)) as tf.Tensor2D; // [B, B+1]
    const sentinelColumn = tf.squeeze(tf.slice(locality, [0, batch], [batch, 1]), [1]) as tf.Tensor1D;
    const localityToSentinel = hingedSelection(locality, sentinelColumn, settings.hingeScale, settings.epsilon);
    return { queryToKnowledge, queryToSentinel, localityToSentinel };
  });
}
