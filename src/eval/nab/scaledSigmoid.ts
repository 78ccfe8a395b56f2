/**
 * NAB's scaled sigmoid, `2 / (1 + exp(5y)) - 1`, which weights a detection by its
 * relative position `y` in or after a label window. Same as numenta/NAB
 * `nab/sweeper.py` `scaledSigmoid`, written the same way so that the floats agree.
 *
 * - y = -1 (left edge of a window): 0.98661, the best a true positive can score;
 * - y = 0 (right edge): 0;
 * - y = 1 (one window length past the right edge): -0.98661;
 * - y > 3: exactly -1, a false positive far from any window.
 *
 * @example scaledSigmoid(-0.5) // 0.84828
 */
export function scaledSigmoid(relativePositionInWindow: number): number {
  if (relativePositionInWindow > 3.0) return -1.0;
  return 2 * sigmoid(-5 * relativePositionInWindow) - 1.0;
}

/** The logistic function, as NAB writes it. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** scaledSigmoid(-1): NAB divides true-positive weights by it so that the earliest detection scores exactly tpWeight. */
export const MAX_TP = scaledSigmoid(-1.0);
