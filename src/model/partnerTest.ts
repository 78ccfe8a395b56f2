/**
 * The partner test: each analogue channel's newest value against what the other channels of its
 * group say at the same moment. Channels driven by one cause the model does not observe (a load
 * that moves CPU, power and temperature together) each stay normal alone when one of them breaks
 * away; the context test asks only what a channel's own past predicts, and a wandering cause makes
 * that loose. The relation at one moment is tight, so it is fitted directly:
 *
 *   fit        z_c = a_c + β_c · z_P + e      least squares on the training rows, P the other targets
 *                                             of c's group (channelGroups.ts), z robust-scaled
 *   kept       where the partners explain at least `MIN_EXPLAINED` of z_c's variance on the
 *              validation windows' newest points: a loose relation would only add noise
 *   u          = e / s_c at the newest point, s_c the training residuals' std
 *   evidence   = −log P(½u² ≥ e) on the validation windows (channelCalibration.ts knots), in the
 *                units of the other calibrated tests; imputationScorer.ts takes the larger
 *
 * A linear statistic beside the net, as the too-still test is: on five channels sharing an AR(1)
 * cause the net's draws, given every partner at the same moment, still missed by about three times
 * what the partners allow (docs/tuning-log.md, variant 29). Plain data: no tf import.
 */
import { Matrix, solve } from 'ml-matrix';
import { fitChannelCalibration, surprise, type ChannelCalibration } from './channelCalibration.ts';

/** Share of a channel's validation variance its partners must explain for the test to be kept. */
export const MIN_EXPLAINED = 0.5;

/** Only the newest training rows are fitted: enough for a handful of coefficients, bounded work. */
const MAX_ROWS = 50_000;

export interface PartnerRegression {
  /** The partner channels. */
  partners: number[];
  /** β per partner, and the intercept a. */
  coef: number[];
  intercept: number;
  /** Std of the training residuals, scaled units. */
  residualStd: number;
}

export interface PartnerTest {
  /** Per channel, its regression on its partners; null where the test is not kept. */
  regressions: (PartnerRegression | null)[];
  /** ½u² on the validation windows, per channel with a regression. */
  calibration: ChannelCalibration;
}

/** N rows of C channels, row-major `[N, C]`, scaled units. */
interface Rows {
  z: ArrayLike<number>;
  N: number;
  C: number;
}

/**
 * The test for a model whose target groups are `groups` (channel indices), or undefined when no
 * channel keeps one.
 * @param train training rows `[N, C]`, scaled units
 * @param validation the validation windows' newest rows `[W, C]`, scaled units
 */
export function fitPartnerTest(train: Rows, validation: Rows, groups: readonly (readonly number[])[]): PartnerTest | undefined {
  const { C } = train;
  const regressions: (PartnerRegression | null)[] = Array.from({ length: C }, () => null);
  for (const group of groups) {
    const m = group.length >= 2 ? moments(train, group) : undefined;
    if (!m) continue;
    group.forEach((c, i) => {
      const fit = regress(group, i, m);
      if (explained(validation, c, fit) >= MIN_EXPLAINED) regressions[c] = fit;
    });
  }
  const kept = regressions.map((r) => r !== null);
  if (!kept.some(Boolean)) return undefined;
  const terms = halfSquares(validation, regressions); // [W, C]
  return { regressions, calibration: fitChannelCalibration(terms, validation.N, kept) };
}

/** Evidence `[b, C]` of the newest rows `[b, C]` (scaled units); 0 where a channel has no regression. */
export function partnerTerms(newest: ArrayLike<number>, b: number, test: PartnerTest): Float64Array {
  const half = halfSquares({ z: newest, N: b, C: test.regressions.length }, test.regressions);
  const out = new Float64Array(half.length);
  const C = test.regressions.length;
  for (let k = 0; k < out.length; k++) {
    const knots = test.calibration.knots[k % C];
    if (knots) out[k] = surprise(half[k], knots, test.calibration.tailScale[k % C]!);
  }
  return out;
}

/** ½ (e / s_c)² per row and channel with a regression `[N, C]`; 0 elsewhere, and for a row with a non-finite value. */
function halfSquares(rows: Rows, regressions: readonly (PartnerRegression | null)[]): Float64Array {
  const { z, N, C } = rows;
  const out = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const r = regressions[c];
      if (!r) continue;
      const u = residual(z, n, C, c, r) / r.residualStd;
      out[n * C + c] = Number.isFinite(u) ? 0.5 * u * u : 0;
    }
  }
  return out;
}

function residual(z: ArrayLike<number>, n: number, C: number, c: number, r: PartnerRegression): number {
  let fitted = r.intercept;
  for (let j = 0; j < r.partners.length; j++) fitted += r.coef[j] * z[n * C + r.partners[j]];
  return z[n * C + c] - fitted;
}

/** Share of channel c's variance over `rows` that `fit` explains: 1 − Σe² / Σ(z − z̄)². */
function explained(rows: Rows, c: number, fit: PartnerRegression): number {
  const { z, N, C } = rows;
  if (N < 2) return 0;
  let mean = 0;
  for (let n = 0; n < N; n++) mean += z[n * C + c];
  mean /= N;
  let total = 0;
  let left = 0;
  for (let n = 0; n < N; n++) {
    total += (z[n * C + c] - mean) ** 2;
    left += residual(z, n, C, c, fit) ** 2;
  }
  return total > 0 ? 1 - left / total : 0;
}

/** Mean and covariance of a group's channels over the newest MAX_ROWS rows where all are finite; undefined when too few. */
function moments(rows: Rows, group: readonly number[]): { mean: number[]; cov: Matrix } | undefined {
  const { z, N, C } = rows;
  const used: number[] = [];
  for (let n = Math.max(0, N - MAX_ROWS); n < N; n++) if (group.every((k) => Number.isFinite(z[n * C + k]))) used.push(n);
  if (used.length < 10 * group.length) return undefined;
  const mean = group.map((k) => used.reduce((s, n) => s + z[n * C + k], 0) / used.length);
  const centred = new Matrix(used.map((n) => group.map((k, i) => z[n * C + k] - mean[i]))); // [n, G]
  return { mean, cov: centred.transpose().mmul(centred).div(used.length) }; // [G, G]
}

/**
 * Channel `group[i]`'s least squares on the rest of the group, from the group's moments: β solves
 * Σ_PP β = Σ_Pc (by SVD, so that collinear partners still solve), the intercept is the means'
 * difference, and the residual variance is Σ_cc − β·Σ_Pc.
 */
function regress(group: readonly number[], i: number, m: { mean: number[]; cov: Matrix }): PartnerRegression {
  const rest = group.map((_, k) => k).filter((k) => k !== i);
  const coef = solve(m.cov.selection(rest, rest), m.cov.selection(rest, [i]), true).to1DArray();
  const intercept = m.mean[i] - coef.reduce((s, b, k) => s + b * m.mean[rest[k]], 0);
  const left = m.cov.get(i, i) - coef.reduce((s, b, k) => s + b * m.cov.get(rest[k], i), 0);
  return { partners: rest.map((k) => group[k]), coef, intercept, residualStd: Math.max(Math.sqrt(Math.max(left, 0)), 1e-6) };
}

/**
 * The groups of target channels, as model channel indices: the net's groups (denoiser.ts `groups`,
 * indices into the channels it reads) without their commands, or every target for one net.
 */
export function targetGroups(targets: readonly boolean[], reads: readonly boolean[] | undefined, netGroups: readonly (readonly number[])[] | undefined): number[][] {
  const ids = targets.flatMap((t, c) => (t ? [c] : []));
  if (!netGroups) return [ids];
  const read = targets.flatMap((_, c) => (reads?.[c] ?? true ? [c] : []));
  return netGroups.map((g) => g.map((i) => read[i]).filter((c) => targets[c]));
}
