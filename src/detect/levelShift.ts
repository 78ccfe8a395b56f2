/**
 * Level-shift evidence: how far the mean of the newest `recent` values lies from the values
 * before them, as a two-sided z-test against the mean and population deviation of the last
 * `window` values (refitted every `refitEvery` points, as NAB's windowedGaussian does), in digits
 * of surprise beyond `offset`, times `weight`, at most `cap`:
 *
 *   z        = (mean(newest recent) − μ) / (σ / √recent)
 *   evidence = min(cap, weight · max(0, −log10 P(|Z| ≥ |z|) − offset))
 *
 * Why: the model sees 32 points and ranks single-window errors; a level that moves over dozens of
 * points, or a pattern drifting off its usual band, never looks wrong inside one window. A mean of
 * many points against a long history does. The large offset keeps ordinary wandering at 0, and
 * the cap keeps it a supporting voice: it can tip an excursion over the gate's level, not outvote
 * the rank.
 *
 * `rebase()` forgets the history but the newest value: once a shift has been reported, the new
 * level is the baseline (after `minPoints` values of it), so a sustained shift alerts once instead
 * of again every time the gate's hold runs out while the old level still fills the history. The
 * deviation learnt before stays a floor: a short history after a rebase (100 points of a daily
 * cycle, say) underrates how much the series moves and would make every swing look like a shift.
 *
 * The history is kept as per-block sums (blockHistory.ts): the fit is exact until the history is
 * longer than `window`, then it differs from an exact sliding window by at most one block's worth
 * of values taken at their mean. Per channel that is 1.8 kB instead of 51 kB of raw values.
 *
 * @example
 * const ls = new LevelShift(LEVEL_SHIFT_DEFAULTS);
 * ls.update([12.5]); // 0 until `minPoints` values; digits of evidence afterwards
 */
import { ConfigError } from '../errors.ts';
import { BlockHistory, type BlockHistorySnapshot } from './blockHistory.ts';
import { fromBase64 } from './typedBase64.ts';
import { surpriseOf } from './calibration.ts';

export interface LevelShiftConfig {
  /** Digits of evidence per digit of surprise beyond `offset`; 0 turns the check off. */
  weight: number;
  /** Digits of surprise that earn nothing. */
  offset: number;
  /** Most evidence it adds. */
  cap: number;
  /** Values whose mean is tested. */
  recent: number;
  /** Values of history the mean and deviation come from. */
  window: number;
  /** Points between two refits of the history's mean and deviation. */
  refitEvery: number;
  /** Values of history needed before the first test (also after a rebase). */
  minPoints: number;
}

export const LEVEL_SHIFT_DEFAULTS: Readonly<LevelShiftConfig> = Object.freeze({
  weight: 0.3,
  offset: 20,
  cap: 3,
  recent: 32,
  window: 6_400,
  refitEvery: 100,
  minPoints: 100,
});

export interface LevelShiftSnapshot {
  /** The history (blockHistory.ts); absent in the raw-values format. */
  history?: BlockHistorySnapshot;
  /**
   * The format written before the blocks: the last `window` values per channel, oldest first,
   * float64 base64. Read (and converted) so that a deployment's saved state survives the upgrade.
   */
  values?: string[];
  /** Points since the last refit; -1: no refit due until minPoints values (never fitted, or rebased). */
  sinceFit: number;
  mean: number[];
  std: number[];
  /** Per channel, the largest deviation fitted before a rebase. */
  stdFloor: number[];
}

export function validateLevelShiftConfig(c: LevelShiftConfig, prefix = 'detect.onsetScorer.levelShift'): void {
  for (const k of ['weight', 'offset', 'cap'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] >= 0)) throw new ConfigError(`${prefix}.${k}`, `must be a finite number >= 0, got ${c[k]}`);
  }
  for (const k of ['recent', 'window', 'refitEvery', 'minPoints'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw new ConfigError(`${prefix}.${k}`, `must be an integer >= 1, got ${c[k]}`);
  }
  if (c.recent > c.window) throw new ConfigError(`${prefix}.recent`, `must be at most window (${c.window}), got ${c.recent}`);
  if (c.minPoints > c.window) throw new ConfigError(`${prefix}.minPoints`, `must be at most window (${c.window}), got ${c.minPoints}`);
}

const LOG10_2 = Math.log10(2);

export class LevelShift {
  private history: BlockHistory;
  private sinceFit = Number.POSITIVE_INFINITY;
  private mean: number[] = [];
  private std: number[] = [];
  private stdFloor: number[] = [];

  constructor(readonly config: LevelShiftConfig = LEVEL_SHIFT_DEFAULTS) {
    validateLevelShiftConfig(config);
    this.history = new BlockHistory(config.window, config.recent);
  }

  /** A value before the first judged window: it joins the history, nothing is tested. */
  observe(point: ArrayLike<number>): void {
    this.history.push(point);
  }

  /** The newest point `[C]`: it joins the history, then its evidence (0 when off, too early, or flat history). */
  update(point: ArrayLike<number>): number {
    const c = this.config;
    if (this.sinceFit >= c.refitEvery && this.history.size >= c.minPoints) this.refit();
    else this.sinceFit++;
    this.history.push(point);
    if (c.weight === 0 || this.mean.length === 0) return 0;
    let evidence = 0;
    for (let ch = 0; ch < point.length; ch++) {
      const sd = this.std[ch];
      if (!(sd > 1e-6)) continue;
      const z = (this.history.recentMean(ch) - this.mean[ch]) / (sd / Math.sqrt(c.recent));
      const surprise = surpriseOf(Math.abs(z)) - LOG10_2; // two-sided
      evidence = Math.max(evidence, Math.min(c.cap, c.weight * Math.max(0, surprise - c.offset)));
    }
    return evidence;
  }

  /** Keep only the newest value: the history starts again from the current level. */
  rebase(): void {
    if (this.history.size === 0) return;
    const newest = this.history.newest();
    this.std.forEach((sd, ch) => (this.stdFloor[ch] = Math.max(this.stdFloor[ch] ?? 0, sd)));
    this.history.clear();
    this.history.push(newest);
    this.mean = [];
    this.std = [];
    this.sinceFit = Number.POSITIVE_INFINITY;
  }

  snapshot(): LevelShiftSnapshot {
    return { history: this.history.snapshot(), sinceFit: Number.isFinite(this.sinceFit) ? this.sinceFit : -1, mean: [...this.mean], std: [...this.std], stdFloor: [...this.stdFloor] };
  }

  /** A level check that answers exactly as the one that took `snapshot` (the raw-values format: as one that saw those values). */
  static restore(config: LevelShiftConfig, s: LevelShiftSnapshot): LevelShift {
    const ls = new LevelShift(config);
    if (s.history) ls.history = BlockHistory.restore(config.window, config.recent, s.history);
    else ls.history.replay((s.values ?? []).map((b64) => fromBase64(b64, Float64Array)));
    ls.sinceFit = s.sinceFit < 0 ? Number.POSITIVE_INFINITY : s.sinceFit;
    ls.mean = [...s.mean];
    ls.std = [...s.std];
    ls.stdFloor = [...s.stdFloor];
    return ls;
  }

  /** Mean and population deviation of the history (the values before the current one), the deviation at least its floor. */
  private refit(): void {
    const { mean, std } = this.history.fit();
    this.mean = mean;
    this.std = std.map((sd, ch) => Math.max(this.stdFloor[ch] ?? 0, sd));
    this.sinceFit = 1;
  }
}
