/**
 * Maps evidence in z units (|x - center| / scale, 0 .. ∞) to NAB's `anomaly_score` in [0, 1).
 *
 * NAB's sweep only ranks the scores, so any strictly increasing map scores the same; what
 * matters is that it never saturates. A Gaussian tail `1 - Q(z)` reaches 1.0 in float64 at
 * z ≈ 8.3 (and at z ≈ 3.1 once printed with 3 decimals, as NAB's writer does), tying the very
 * rows that should rank first. `z / (1 + z)` stays below 1 for every finite z and keeps
 * float64 steps between distinct z up to ~1e7.
 *
 * @example boundedScore(0) // 0
 * @example boundedScore(9) // 0.9
 * @example boundedScore(99) // 0.99
 */
export function boundedScore(z: number): number {
  if (!(z > 0)) return 0; // NaN (no evidence) and 0
  if (z === Number.POSITIVE_INFINITY) return 1;
  return z / (1 + z);
}

/** The inverse of `boundedScore`, for plotting thresholds given in z units. */
export function zOfBoundedScore(score: number): number {
  return score >= 1 ? Number.POSITIVE_INFINITY : score / (1 - score);
}
