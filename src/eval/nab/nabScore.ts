/**
 * The whole NAB v1.1 scoring of one detector: load its results, sweep the corpus-wide
 * threshold for each profile, and normalise against the null and perfect detectors.
 * Reproduces numenta/NAB `run.py --optimize --score --normalize` on existing results.
 */
import { rootLogger } from '../../log.ts';
import { readDetectorResults, readProfiles, readThresholds, type StoredThreshold } from './corpus.ts';
import { PROBATIONARY_PERCENT } from './labels.ts';
import { NabError } from './nabError.ts';
import { normalise, nullScore, perfectScore } from './normalise.ts';
import { prepareCorpus, type PreparedCorpus } from './prepareCorpus.ts';
import { scoreCorpus } from './scoreCorpus.ts';
import { sweep } from './sweep.ts';
import type { CostMatrix, ThresholdScore } from './types.ts';

const log = rootLogger.namespace('eval.nab');

export interface NabScoreOptions {
  /** NAB root holding `data/`, `labels/`, `config/`. */
  nabDir: string;
  /** NAB's `results/` or the detector's own folder; default `<nabDir>/results`. */
  resultsDir?: string;
  detector: string;
  /** Share of each file left unscored; NAB: 0.15 (capped at 750 rows). */
  probationaryPercent?: number;
}

/** A profile's result at one threshold. */
export interface ProfileScore {
  threshold: number;
  /** 0 = null detector, 100 = perfect. */
  normalised: number;
  raw: number;
  /** Windows detected (each counted once), windows missed, detections outside every window. */
  windows: { tp: number; fn: number; fp: number };
  /** Point counts without the probationary rows, as in NAB's score files. */
  points: { tp: number; tn: number; fp: number; fn: number };
}

export interface ProfileReport {
  costMatrix: CostMatrix;
  nullRaw: number;
  perfectRaw: number;
  /** The best threshold of the exact sweep. */
  optimised: ProfileScore;
  /** Scored at the threshold stored for this detector in `config/thresholds.json`, when there is one. */
  stored?: ProfileScore & { storedRaw: number };
}

export interface NabReport {
  detector: string;
  files: number;
  rows: number;
  labelWindows: number;
  profiles: Record<string, ProfileReport>;
}

/**
 * @example const report = await nabScore({ nabDir: '../shared/datasets/nab', detector: 'numenta' });
 *          report.profiles.standard.optimised.normalised // 70.10
 */
export async function nabScore(opts: NabScoreOptions): Promise<NabReport> {
  const started = performance.now();
  const [results, profiles, thresholds] = await Promise.all([
    readDetectorResults(opts),
    readProfiles(opts.nabDir),
    // Stored thresholds are optional: a new detector has none.
    readThresholds(opts.nabDir).catch((e: unknown) => {
      if (e instanceof NabError && e.code === 'NAB_NOT_FOUND') return {} as Record<string, Record<string, StoredThreshold>>;
      throw e;
    }),
  ]);
  const prepared = prepareCorpus(results, opts.probationaryPercent ?? PROBATIONARY_PERCENT);
  const loaded = performance.now();
  const report: NabReport = { detector: opts.detector, files: prepared.files.length, rows: prepared.scores.length, labelWindows: prepared.labelWindowCount, profiles: {} };
  for (const [name, cost] of Object.entries(profiles)) {
    report.profiles[name] = profileReport(prepared, cost, thresholds[opts.detector]?.[name]);
  }
  log.info('nab scored', { detector: opts.detector, files: report.files, rows: report.rows, loadMs: Math.round(loaded - started), scoreMs: Math.round(performance.now() - loaded) });
  return report;
}

/** Sweeps one profile and, given a stored threshold, also scores at it. */
export function profileReport(prepared: PreparedCorpus, cost: CostMatrix, stored?: StoredThreshold): ProfileReport {
  const nullRaw = nullScore(prepared, cost);
  const perfectRaw = perfectScore(prepared, cost);
  const toScore = (s: ThresholdScore): ProfileScore => ({
    threshold: s.threshold,
    normalised: normalise(s.score, nullRaw, perfectRaw),
    raw: s.score,
    windows: { tp: s.detectedWindows, fn: s.missedWindows, fp: s.fp },
    points: { tp: s.tp, tn: s.tn, fp: s.fp, fn: s.fn },
  });
  const report: ProfileReport = { costMatrix: cost, nullRaw, perfectRaw, optimised: toScore(sweep(prepared, cost).best) };
  if (stored && Number.isFinite(stored.threshold)) {
    report.stored = { ...toScore(scoreCorpus(prepared, stored.threshold, cost).total), storedRaw: stored.score };
  }
  return report;
}
