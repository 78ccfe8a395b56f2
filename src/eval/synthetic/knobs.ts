/**
 * Every knob of the synthetic suite, with its unit and why it has its value. Recorded in
 * `synthetic.json` with the seed, so a figure can always be traced to the data it came from.
 * Signal levels are in σ, the standard deviation of the noise of the channel; each case then
 * maps σ units to its own offset and unit so that no channel has a round scale.
 */
export interface SyntheticKnobs {
  /** Epoch ms of the first row: a Monday, 00:00 UTC, so the day and week of every row are real. */
  startMs: number;
  /** Row spacing, ms: 5 minutes, a common telemetry cadence. */
  stepMs: number;
  /**
   * Rows per day: 288 at 5 minutes. The day is the dominant cycle of most telemetry, and at 288
   * rows it is far longer than any detector's window (1–64), so the phase of a row is not visible
   * inside one window: which is exactly what makes an in-range (contextual) anomaly hard.
   */
  pointsPerDay: number;
  /** Days the detector trains on (7: one full week, so the weekly component is seen once). */
  fitDays: number;
  /** Days after the fit part held out for the label-free threshold (the max score there). */
  holdoutDays: number;
  /** Days of the test part, where the anomalies are. */
  testDays: number;
  /** Daily amplitude range, σ; drawn per case, so the suite spans weak and strong cycles. */
  dailyAmplitude: readonly [number, number];
  /** Amplitude of the slow weekly component, σ. */
  weeklyAmplitude: number;
  /** Spikes per spike case, each its own one-row segment (more positives, steadier AUCs). */
  spikeCount: number;
  /** Fewest rows between two spikes, and between two command pulses chosen as anomalies. */
  minSpacing: number;
  /** Rows of a sustained change (level, variance, trend, frequency, phase, correlation): one day. */
  segmentRows: number;
  /** Rows of a pattern change (8 h: longer than every window) and of a flatline (12 h). */
  patternRows: number;
  flatlineRows: number;
  /** Rows of a stuck value (sample-and-hold: the reading updates once an hour, for one day). */
  stuckHoldRows: number;
  /** Level shift, σ. */
  levelShift: number;
  /** Noise std multiplier of a variance change. */
  varianceFactor: number;
  /** Where the trend-change ramp ends, σ. */
  trendRise: number;
  /** Frequency multiplier of the daily component during a frequency change. */
  frequencyFactor: number;
  /** Phase shift, rows (8 h). */
  phaseShiftRows: number;
  /** Rows after a segment that are neither positive nor negative: windows that still hold the anomaly. */
  marginRows: number;
  /** Command-to-response lag, rows, and the response's first-order smoothing per row. */
  responseLag: number;
  responseAlpha: number;
  /** Binary command channels (≥ 20) and constant channels of the multivariate layout. */
  commandChannels: number;
  constantChannels: number;
  /** Anomalous command pulses per command case. */
  pulseAnomalies: number;
  /** Analogue channels of the fleet layout that have nothing to do with the main channel. */
  unrelatedChannels: number;
}

export const SYNTHETIC_DEFAULTS: Readonly<SyntheticKnobs> = Object.freeze({
  startMs: Date.UTC(2024, 0, 1),
  stepMs: 5 * 60_000,
  pointsPerDay: 288,
  fitDays: 7,
  holdoutDays: 1,
  testDays: 7,
  dailyAmplitude: [4, 8] as const,
  weeklyAmplitude: 1.5,
  spikeCount: 8,
  minSpacing: 100,
  segmentRows: 288,
  patternRows: 96,
  flatlineRows: 144,
  stuckHoldRows: 12,
  levelShift: 5,
  varianceFactor: 3,
  trendRise: 8,
  frequencyFactor: 4,
  phaseShiftRows: 96,
  marginRows: 32,
  responseLag: 2,
  responseAlpha: 0.35,
  commandChannels: 22,
  constantChannels: 3,
  pulseAnomalies: 3,
  unrelatedChannels: 7,
});

/** Rows of each part of a case. */
export function partRows(k: Readonly<SyntheticKnobs>): { fit: number; train: number; test: number; total: number } {
  const fit = k.fitDays * k.pointsPerDay;
  const train = fit + k.holdoutDays * k.pointsPerDay;
  const test = k.testDays * k.pointsPerDay;
  return { fit, train, test, total: train + test };
}
