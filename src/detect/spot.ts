/**
 * SPOT and DSPOT: streaming thresholds from extreme value theory (Siffer, Fouque, Termier,
 * Largouët, "Anomaly Detection in Streams with Extreme Value Theory", KDD 2017, algorithms 1-4).
 *
 * SPOT calibrates on the first `nInit` scores: the initial threshold t is their `initLevel`
 * empirical quantile, the excesses over t are fitted by a GPD (gpd.ts), and z_q is the level
 * exceeded with probability q. Then, per score x: x > z_q is an alarm (kept out of the model);
 * t < x ≤ z_q is a new peak (the GPD is refitted); x ≤ t only counts as an observation.
 * Unlike the paper, an alarm by default still counts as a tail event, censored at z_q - t:
 * its size is not trusted (it may be an anomaly), but dropping it biases the tail. Censored
 * alarms are capped at CENSOR_BUDGET times the share the model expects (`censorAlarms`).
 * DSPOT runs the same on x - M, where M is the mean of the last `depth` non-alarm scores, so
 * that the thresholds follow a drifting level.
 */
import { ConfigError } from '../errors.ts';
import { fitGpd, tailQuantile, type GpdFit } from './gpd.ts';

export interface SpotConfig {
  /** Risk: the probability that a normal score exceeds z_q. Must be below 1 - initLevel. */
  q: number;
  /** Scores used for the initial calibration. */
  nInit: number;
  /** Quantile of the calibration scores taken as the initial threshold t (0.98 in the paper). */
  initLevel: number;
  /** Excesses kept for the GPD fit (the newest); bounds the cost of a refit. */
  maxPeaks: number;
  /** Refit the GPD every this many new peaks (1 = every peak, as in the paper). */
  refitEvery: number;
  /**
   * Keep alarms in the tail model as right-censored excesses at z_q - t, within CENSOR_BUDGET
   * (true), or drop them as the paper does (false). Dropping them truncates the peaks at z_q,
   * which biases γ down, lowers z_q, and truncates more: measured on i.i.d. scores, the alarm
   * rate then ends 2-4x above q.
   */
  censorAlarms: boolean;
}

export interface DspotConfig extends SpotConfig {
  /** Depth d of the moving average of recent normal scores. */
  depth: number;
}

/**
 * Censored alarms may fill at most this multiple of the share of the kept tail events that the
 * model expects above z_q. Under the null, alarms stay within it, so the tail is not truncated;
 * a burst of true anomalies (or a level shift) is capped there, so it cannot inflate the tail.
 */
export const CENSOR_BUDGET = 2;

/** What one score was: still calibrating, an alarm, a new peak, or a plain observation. */
export type SpotOutcome = 'init' | 'alarm' | 'peak' | 'normal';

/** JSON form of a SPOT's state; numbers only, so it round-trips exactly. */
export interface SpotSnapshot {
  config: SpotConfig;
  /** Calibration scores seen so far (only while calibrating). */
  init: number[];
  t: number | null;
  gamma: number;
  sigma: number;
  /** Observations counted (alarms excluded) and peaks among them, since the start. */
  n: number;
  nPeaks: number;
  /** z_q as last computed (it moves on peaks only, so it is state, not a function of n). */
  zq: number | null;
  /** Ring of the newest excesses over t, as stored, its censoring flags (1 = censored alarm) and its write position. */
  excesses: number[];
  censored: number[];
  head: number;
  sinceFit: number;
}

export function validateSpotConfig(cfg: SpotConfig, prefix = 'detect'): void {
  const { q, nInit, initLevel, maxPeaks, refitEvery } = cfg;
  if (!(initLevel > 0 && initLevel < 1)) throw new ConfigError(`${prefix}.initLevel`, `must be in (0, 1), got ${initLevel}`);
  if (!(q > 0 && q < 1 - initLevel)) {
    throw new ConfigError(`${prefix}.q`, `must be in (0, 1 - initLevel = ${1 - initLevel}), got ${q}; a risk above the initial exceedance rate puts z_q below t`);
  }
  if (!(Number.isInteger(nInit) && nInit * (1 - initLevel) >= 1)) {
    throw new ConfigError(`${prefix}.nInit`, `must be an integer with nInit * (1 - initLevel) >= 1 (at least one initial peak), got ${nInit}`);
  }
  if (!(Number.isInteger(maxPeaks) && maxPeaks >= 1)) throw new ConfigError(`${prefix}.maxPeaks`, `must be an integer >= 1, got ${maxPeaks}`);
  if (!(Number.isInteger(refitEvery) && refitEvery >= 1)) throw new ConfigError(`${prefix}.refitEvery`, `must be an integer >= 1, got ${refitEvery}`);
}

/**
 * @example
 * const spot = new Spot({ q: 1e-4, nInit: 1000, initLevel: 0.98, maxPeaks: 500, refitEvery: 5 });
 * for (const x of scores) if (spot.step(x) === 'alarm') alert(x, spot.threshold);
 */
export class Spot {
  private initBuf: Float64Array;
  private initCount = 0;
  private t = Number.NaN;
  private fit: Pick<GpdFit, 'gamma' | 'sigma'> = { gamma: 0, sigma: 0 };
  private zq = Number.NaN;
  private n = 0;
  private nPeaks = 0;
  /** Ring of the newest excesses and their censoring flags; order does not matter to the fit. */
  private readonly peaks: Float64Array;
  private readonly censored: Uint8Array;
  private peakHead = 0;
  private peakCount = 0;
  /** Censored alarms among the kept excesses. */
  private censoredCount = 0;
  private sinceFit = 0;

  constructor(readonly config: SpotConfig) {
    validateSpotConfig(config);
    this.initBuf = new Float64Array(config.nInit);
    this.peaks = new Float64Array(config.maxPeaks);
    this.censored = new Uint8Array(config.maxPeaks);
  }

  /** True once the initial calibration is done. */
  get ready(): boolean {
    return !Number.isNaN(this.t);
  }

  /** z_q, the alarm level (NaN while calibrating). */
  get threshold(): number {
    return this.zq;
  }

  /** t, the initial threshold above which scores are peaks (NaN while calibrating). */
  get initialThreshold(): number {
    return this.t;
  }

  /** The current GPD of the excesses over t. */
  get gpd(): Readonly<Pick<GpdFit, 'gamma' | 'sigma'>> {
    return this.fit;
  }

  step(x: number): SpotOutcome {
    if (!this.ready) {
      this.initBuf[this.initCount++] = x;
      if (this.initCount === this.config.nInit) this.calibrate();
      return 'init';
    }
    if (x > this.zq) {
      if (this.config.censorAlarms && this.censoredCount < CENSOR_BUDGET * this.expectedAlarmShare() * (this.peakCount + 1)) {
        this.addTailEvent(this.zq - this.t, 1);
      }
      return 'alarm';
    }
    if (!(x > this.t)) {
      this.n++;
      return 'normal';
    }
    this.addTailEvent(x - this.t, 0);
    return 'peak';
  }

  private addTailEvent(excess: number, censored: 0 | 1): void {
    this.n++;
    this.addPeak(excess, censored);
    if (++this.sinceFit >= this.config.refitEvery) this.refit();
    else this.zq = tailQuantile(this.t, this.fit, this.config.q, this.n, this.nPeaks); // n and N_t moved
  }

  private calibrate(): void {
    const sorted = this.initBuf.slice().sort();
    this.t = quantileSorted(sorted, this.config.initLevel);
    for (let i = 0; i < this.initBuf.length; i++) if (this.initBuf[i] > this.t) this.addPeak(this.initBuf[i] - this.t, 0);
    this.n = this.initBuf.length;
    this.initBuf = new Float64Array(0); // calibration data is not needed any more
    this.refit();
  }

  /** The share of tail events the fitted model expects above z_q: q n / N_t. */
  private expectedAlarmShare(): number {
    return this.nPeaks === 0 ? 1 : Math.min(1, (this.config.q * this.n) / this.nPeaks);
  }

  private addPeak(excess: number, censored: 0 | 1): void {
    if (this.peakCount === this.peaks.length) this.censoredCount -= this.censored[this.peakHead];
    this.censoredCount += censored;
    this.peaks[this.peakHead] = excess;
    this.censored[this.peakHead] = censored;
    this.peakHead = (this.peakHead + 1) % this.peaks.length;
    if (this.peakCount < this.peaks.length) this.peakCount++;
    this.nPeaks++;
  }

  private refit(): void {
    // The ring's first peakCount slots hold exactly the kept excesses (the order is irrelevant).
    const { gamma, sigma } = fitGpd(this.peaks, { n: this.peakCount, censored: this.censored });
    this.fit = { gamma, sigma };
    this.sinceFit = 0;
    // N_t / n is the exceedance rate over the whole stream; the GPD shape comes from the kept peaks.
    this.zq = tailQuantile(this.t, this.fit, this.config.q, this.n, this.nPeaks);
  }

  /** The state as plain JSON data; `Spot.restore` rebuilds an identical detector. */
  snapshot(): SpotSnapshot {
    return {
      config: { ...this.config },
      init: Array.from(this.initBuf.subarray(0, this.initCount)),
      t: this.ready ? this.t : null,
      gamma: this.fit.gamma,
      sigma: this.fit.sigma,
      n: this.n,
      nPeaks: this.nPeaks,
      zq: this.ready ? this.zq : null,
      excesses: Array.from(this.peaks.subarray(0, this.peakCount)),
      censored: Array.from(this.censored.subarray(0, this.peakCount)),
      head: this.peakHead,
      sinceFit: this.sinceFit,
    };
  }

  static restore(s: SpotSnapshot): Spot {
    const spot = new Spot(s.config);
    if (s.t === null) {
      for (const x of s.init) spot.step(x);
      return spot;
    }
    spot.initBuf = new Float64Array(0);
    spot.t = s.t;
    spot.n = s.n;
    spot.nPeaks = s.nPeaks;
    spot.peaks.set(s.excesses);
    spot.censored.set(s.censored);
    spot.censoredCount = s.censored.reduce((a, b) => a + b, 0);
    spot.peakCount = s.excesses.length;
    spot.peakHead = s.head;
    spot.sinceFit = s.sinceFit;
    spot.fit = { gamma: s.gamma, sigma: s.sigma };
    spot.zq = s.zq ?? tailQuantile(spot.t, spot.fit, spot.config.q, spot.n, spot.nPeaks);
    return spot;
  }
}

/** Linear interpolation between order statistics (numpy's default `percentile`). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** JSON form of a DSPOT's state. */
export interface DspotSnapshot {
  depth: number;
  /** The moving-average ring of recent normal scores, as stored, its write position and running sum. */
  window: number[];
  head: number;
  sum: number;
  spot: SpotSnapshot;
}

/**
 * DSPOT (Siffer et al. algorithm 4): SPOT on the deviation from the mean of the last `depth`
 * normal scores. The first `depth` scores only fill the window; alarms never enter it.
 */
export class Dspot {
  private inner: Spot;
  private readonly window: Float64Array;
  private head = 0;
  private count = 0;
  private sum = 0;

  constructor(readonly config: DspotConfig) {
    if (!(Number.isInteger(config.depth) && config.depth >= 1)) throw new ConfigError('detect.depth', `must be an integer >= 1, got ${config.depth}`);
    const { depth: _depth, ...spotConfig } = config;
    this.inner = new Spot(spotConfig);
    this.window = new Float64Array(config.depth);
  }

  /** The SPOT that runs on the deviations. */
  get spot(): Spot {
    return this.inner;
  }

  get ready(): boolean {
    return this.inner.ready;
  }

  /** The local level M: mean of the last `depth` normal scores (NaN until the window is full). */
  get level(): number {
    return this.count === this.window.length ? this.sum / this.count : Number.NaN;
  }

  /** z_q + M: the alarm level for the next score, in score units. */
  get threshold(): number {
    return this.spot.threshold + this.level;
  }

  /** t + M: the peak level for the next score, in score units. */
  get initialThreshold(): number {
    return this.spot.initialThreshold + this.level;
  }

  step(x: number): SpotOutcome {
    if (this.count < this.window.length) {
      this.push(x);
      return 'init';
    }
    const outcome = this.inner.step(x - this.sum / this.count);
    if (outcome !== 'alarm') this.push(x);
    return outcome;
  }

  private push(x: number): void {
    const d = this.window.length;
    if (this.count === d) this.sum -= this.window[this.head];
    else this.count++;
    this.window[this.head] = x;
    this.head = (this.head + 1) % d;
    this.sum += x;
    // A running sum drifts by rounding; recompute it exactly once per lap (amortised O(1)).
    if (this.head === 0) {
      this.sum = 0;
      for (let i = 0; i < this.count; i++) this.sum += this.window[i];
    }
  }

  snapshot(): DspotSnapshot {
    return { depth: this.window.length, window: Array.from(this.window.subarray(0, this.count)), head: this.head, sum: this.sum, spot: this.spot.snapshot() };
  }

  static restore(s: DspotSnapshot): Dspot {
    const dspot = new Dspot({ ...s.spot.config, depth: s.depth });
    dspot.window.set(s.window);
    dspot.count = s.window.length;
    dspot.head = s.head;
    dspot.sum = s.sum;
    dspot.inner = Spot.restore(s.spot);
    return dspot;
  }
}
