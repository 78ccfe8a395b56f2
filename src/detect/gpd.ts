/**
 * Generalized Pareto fit of threshold excesses, for SPOT's tail quantile.
 * GPD(γ, σ): P(Y > y) = (1 + γ y / σ)^(-1/γ), and exp(-y / σ) in the limit γ → 0.
 *
 * The maximum-likelihood fit uses Grimshaw's trick (Grimshaw, "Computing Maximum Likelihood
 * Estimates for the Generalized Pareto Distribution", Technometrics 1993), as Siffer et al.
 * use it (KDD 2017, section 3.3.3): with x = γ / σ, the likelihood equations reduce to one
 * equation in x, u(x) v(x) = 1, where
 *   u(x) = (1/N) Σ 1 / (1 + x Y_i)      v(x) = 1 + (1/N) Σ log(1 + x Y_i),
 * and every root gives γ = v(x) - 1, σ = γ / x. Roots lie in (-1 / Y_max, 0) and
 * (0, 2 (mean - Y_min) / Y_min²]; x = 0 (the exponential) always solves it. The root with the
 * best likelihood wins. With too few excesses the method of moments is used instead.
 *
 * Excesses may be right-censored (known only to exceed a level): SPOT uses this for its alarms,
 * whose size it must not trust but whose count it must not drop (see spot.ts).
 */

export type GpdMethod = 'grimshaw' | 'moments' | 'exponential' | 'empty';

export interface GpdFit {
  /** Shape γ (ξ in much of the literature); > 0 heavy tail, 0 exponential, < 0 bounded. */
  gamma: number;
  /** Scale σ > 0 (0 only for an empty fit). */
  sigma: number;
  /** Log-likelihood of the excesses under the fit (NaN for moments/empty fits of no data). */
  logLikelihood: number;
  /**
   * How the fit was made: `grimshaw` (MLE), `moments` (few excesses), `exponential`
   * (all excesses equal: only a mean is known, so γ = 0, σ = mean), `empty` (no excess:
   * σ = 0, so every tail quantile equals the threshold itself).
   */
  method: GpdMethod;
}

/** Fewer excesses than this are fitted by the method of moments: the MLE is too noisy. */
export const MIN_EXCESSES_FOR_MLE = 10;
/** Grid points per side scanned for sign changes of u(x) v(x) - 1. */
const GRID_POINTS = 24;
/** Relative distance kept from the ends of the root intervals (x = 0 is a trivial root). */
const EDGE = 1e-7;
/** Below this |γ| the exponential limit of the formulas is used. */
export const GAMMA_EPS = 1e-9;

/**
 * The excesses to fit: `y[i]` for i < n; when `censored[i]` is 1, y[i] is a right-censoring
 * point (the excess is only known to be larger than y[i]).
 */
export interface GpdFitOptions {
  n?: number;
  censored?: ArrayLike<number> | null;
  /** Below this many exact excesses, the method of moments is used. */
  minExcesses?: number;
}

/** Log-likelihood of excesses under GPD(γ, σ), censored ones counting log P(Y > y); -Infinity outside the support. */
export function gpdLogLikelihood(y: ArrayLike<number>, n: number, gamma: number, sigma: number, censored?: ArrayLike<number> | null): number {
  if (!(sigma > 0)) return -Infinity;
  let exact = 0;
  let sumExact = 0; // Σ over exact excesses of log(1 + γ y / σ) (or y / σ when γ → 0)
  let sumCens = 0;
  const k = gamma / sigma;
  const expo = Math.abs(gamma) < GAMMA_EPS;
  for (let i = 0; i < n; i++) {
    const s = expo ? y[i] / sigma : Math.log1p(k * y[i]);
    if (!(s > -Infinity)) return -Infinity;
    if (censored && censored[i] === 1) sumCens += s;
    else {
      exact++;
      sumExact += s;
    }
  }
  if (expo) return -exact * Math.log(sigma) - sumExact - sumCens;
  return -exact * Math.log(sigma) - (1 + 1 / gamma) * sumExact - sumCens / gamma;
}

/**
 * Method of moments on the exact excesses: γ = (1 - m² / v) / 2, σ = m (m² / v + 1) / 2
 * (Hosking & Wallis 1987). Only defined for γ < 1/2. With zero variance (all excesses equal)
 * only a mean is known: the exponential with that mean (censored points add to the total
 * exposure, as in the exponential MLE).
 */
export function fitGpdMoments(y: ArrayLike<number>, opts: GpdFitOptions = {}): GpdFit {
  const n = opts.n ?? y.length;
  const censored = opts.censored ?? null;
  let exact = 0;
  let mean = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += y[i];
    if (censored && censored[i] === 1) continue;
    exact++;
    mean += y[i];
  }
  if (exact === 0) return { gamma: 0, sigma: 0, logLikelihood: Number.NaN, method: 'empty' };
  mean /= exact;
  let ss = 0;
  for (let i = 0; i < n; i++) if (!(censored && censored[i] === 1)) ss += (y[i] - mean) * (y[i] - mean);
  const variance = exact > 1 ? ss / (exact - 1) : 0;
  if (!(variance > 1e-12 * mean * mean)) {
    const sigma = total / exact;
    return { gamma: 0, sigma, logLikelihood: gpdLogLikelihood(y, n, 0, sigma, censored), method: 'exponential' };
  }
  const r = (mean * mean) / variance;
  const gamma = 0.5 * (1 - r);
  const sigma = 0.5 * mean * (r + 1);
  return { gamma, sigma, logLikelihood: gpdLogLikelihood(y, n, gamma, sigma, censored), method: 'moments' };
}

/**
 * Fits a GPD to excesses (all > 0): Grimshaw's MLE, or the method of moments below
 * `minExcesses` exact excesses or when they are all equal. Allocates O(1).
 *
 * Right-censored excesses extend Grimshaw's reduction: for fixed x = γ/σ the likelihood is
 * maximal at γ(x) = (A + B) / N with A = Σ_exact log(1 + x y), B = Σ_censored log(1 + x c) and
 * N exact excesses, and its stationary points solve
 *   w(x) = γ(x) u(x) - (1 - u(x)) - (M - Σ_censored 1 / (1 + x c)) / N = 0
 * with u(x) = (1/N) Σ_exact 1 / (1 + x y) and M censored points. Without censoring this is
 * Grimshaw's u(x) v(x) = 1.
 *
 * @example
 * const fit = fitGpd(excesses); // { gamma: 0.21, sigma: 1.03, method: 'grimshaw', ... }
 */
export function fitGpd(y: ArrayLike<number>, opts: GpdFitOptions = {}): GpdFit {
  const n = opts.n ?? y.length;
  const censored = opts.censored ?? null;
  let exact = 0;
  let mean = 0;
  let total = 0;
  let yMin = Infinity;
  let yMaxExact = 0;
  let yMax = 0;
  for (let i = 0; i < n; i++) {
    const v = y[i];
    total += v;
    if (v > yMax) yMax = v;
    if (censored && censored[i] === 1) continue;
    exact++;
    mean += v;
    if (v < yMin) yMin = v;
    if (v > yMaxExact) yMaxExact = v;
  }
  if (exact < (opts.minExcesses ?? MIN_EXCESSES_FOR_MLE)) return fitGpdMoments(y, opts);
  mean /= exact;
  if (!(yMaxExact - yMin > 1e-12 * yMaxExact)) return fitGpdMoments(y, opts);

  const sigma0 = total / exact; // the exponential MLE; x = 0 always solves w(x) = 0
  let best: GpdFit = { gamma: 0, sigma: sigma0, logLikelihood: gpdLogLikelihood(y, n, 0, sigma0, censored), method: 'grimshaw' };
  // Work in units of the mean exact excess (x scales as 1 / Y), so the grid is scale-free.
  const inv = 1 / mean;
  const consider = (xs: number) => {
    const x = xs * inv; // back to data units
    let sumLog = 0;
    for (let i = 0; i < n; i++) sumLog += Math.log1p(x * y[i]);
    const gamma = sumLog / exact;
    if (!(gamma > -1) || Math.abs(gamma) < GAMMA_EPS) return; // γ ≤ -1: the MLE is not regular
    const sigma = gamma / x;
    const ll = gpdLogLikelihood(y, n, gamma, sigma, censored);
    if (ll > best.logLikelihood) best = { gamma, sigma, logLikelihood: ll, method: 'grimshaw' };
  };
  const w = (xs: number) => grimshawW(y, n, censored, exact, xs * inv);

  // Left interval (-1/Y_max, 0), scanned densely near both ends: a logistic grid in (0, 1).
  const left = -mean / yMax;
  scanRoots(w, (k) => left * logistic(-12 + (24 * k) / (GRID_POINTS - 1)), consider);
  // Right interval: (0, 2 (mean - Y_min) / Y_min²] without censoring (Grimshaw's bound);
  // censored points can move the root beyond it, so the scan then extends to 1e6 means⁻¹.
  const yMinS = yMin * inv;
  const grimshawRight = (2 * (1 - yMinS)) / (yMinS * yMinS);
  const right = Math.min(exact === n ? grimshawRight : Math.max(grimshawRight, 1e6), 1e8);
  if (right > EDGE) {
    const lo = Math.log(EDGE);
    const span = Math.log(right) - lo;
    scanRoots(w, (k) => Math.exp(lo + (span * k) / (GRID_POINTS - 1)), consider);
  }
  return best;
}

function logistic(s: number): number {
  return 1 / (1 + Math.exp(-s));
}

/** w(x) of the censored Grimshaw equation (see fitGpd); x in data units. */
function grimshawW(y: ArrayLike<number>, n: number, censored: ArrayLike<number> | null, exact: number, x: number): number {
  let u = 0;
  let sumLog = 0;
  let cens = 0; // Σ_censored (1 - 1 / (1 + x c))
  for (let i = 0; i < n; i++) {
    const s = 1 + x * y[i];
    sumLog += Math.log(s);
    if (censored && censored[i] === 1) cens += 1 - 1 / s;
    else u += 1 / s;
  }
  u /= exact;
  return (sumLog / exact) * u - (1 - u) - cens / exact;
}

/** Evaluates f on grid(0..GRID_POINTS-1) and refines every sign change by the Illinois method. */
function scanRoots(f: (x: number) => number, grid: (k: number) => number, onRoot: (x: number) => void): void {
  let a = grid(0);
  let fa = f(a);
  for (let k = 1; k < GRID_POINTS; k++) {
    const b = grid(k);
    const fb = f(b);
    if (Number.isFinite(fa) && Number.isFinite(fb) && (fa === 0 || fa * fb < 0)) onRoot(fa === 0 ? a : illinois(f, a, fa, b, fb));
    a = b;
    fa = fb;
  }
}

/** Regula falsi with the Illinois modification: superlinear, and it keeps the bracket. */
function illinois(f: (x: number) => number, a: number, fa: number, b: number, fb: number): number {
  let side = 0;
  for (let it = 0; it < 60; it++) {
    const c = (a * fb - b * fa) / (fb - fa);
    if (Math.abs(b - a) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b))) return c;
    const fc = f(c);
    if (fc === 0) return c;
    if (fc * fb < 0) {
      a = b;
      fa = fb;
      if (side === -1) fa /= 2;
      side = -1;
    } else {
      if (side === 1) fa /= 2;
      side = 1;
    }
    b = c;
    fb = fc;
  }
  return (a + b) / 2;
}

/**
 * SPOT's tail quantile (Siffer et al. eq. 1): the level exceeded with probability q, given the
 * threshold t, the GPD of the excesses over t, n observations and nPeaks of them above t:
 *   z_q = t + σ/γ ((q n / N_t)^(-γ) - 1),   and t - σ log(q n / N_t) when γ → 0.
 */
export function tailQuantile(t: number, fit: Pick<GpdFit, 'gamma' | 'sigma'>, q: number, n: number, nPeaks: number): number {
  if (nPeaks === 0 || !(fit.sigma > 0)) return t;
  const r = (q * n) / nPeaks;
  if (Math.abs(fit.gamma) < GAMMA_EPS) return t - fit.sigma * Math.log(r);
  return t + (fit.sigma / fit.gamma) * (Math.pow(r, -fit.gamma) - 1);
}
