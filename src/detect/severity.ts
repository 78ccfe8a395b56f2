/**
 * Alert severity from how far an incident's peak exceeds its threshold.
 *
 * The measure is the ratio `peak / threshold` (thresholds are positive):
 *
 * | ratio                    | severity   |
 * |--------------------------|------------|
 * | below `warning` (1.25)   | `info`     |
 * | `warning` up to `critical` | `warning` |
 * | `critical` (2) and above | `critical` |
 *
 * A score just over its threshold is usually the tail of normal behaviour, so it stays `info`;
 * twice the threshold is far outside what calibration allowed. The defaults are those of the
 * first threshold rule, so dashboards keep their meaning.
 *
 * @example
 * severityOf(13, 6); // 'critical' (13 / 6 >= 2)
 * severityOf(8, 6);  // 'warning'  (1.33)
 */
import { ConfigError } from '../errors.ts';
import type { AnomalyEvent } from '../types.ts';

export type Severity = AnomalyEvent['severity'];

export interface SeverityLevels {
  /** peak/threshold at or above which an incident is a `warning`. */
  warning: number;
  /** peak/threshold at or above which an incident is `critical`; at least `warning`. */
  critical: number;
}

export const DEFAULT_SEVERITY_LEVELS: Readonly<SeverityLevels> = Object.freeze({ warning: 1.25, critical: 2 });

/** Order of the severities, for "did it escalate" comparisons. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.freeze({ info: 0, warning: 1, critical: 2 });

/** Severity of a peak/threshold ratio. */
export function severityOfRatio(ratio: number, levels: Readonly<SeverityLevels> = DEFAULT_SEVERITY_LEVELS): Severity {
  if (ratio >= levels.critical) return 'critical';
  if (ratio >= levels.warning) return 'warning';
  return 'info';
}

/** Severity of a peak score against a positive threshold. */
export function severityOf(peak: number, threshold: number, levels: Readonly<SeverityLevels> = DEFAULT_SEVERITY_LEVELS): Severity {
  return severityOfRatio(peak / threshold, levels);
}

/** Fails fast on levels that would make a severity unreachable. `key` is the config key of the levels. */
export function validateSeverityLevels(levels: SeverityLevels, key = 'detect.lifecycle.severity'): void {
  if (!Number.isFinite(levels.warning) || levels.warning < 1) {
    throw new ConfigError(`${key}.warning`, `must be a finite ratio >= 1 (peak/threshold), got ${levels.warning}`);
  }
  if (!Number.isFinite(levels.critical) || levels.critical < levels.warning) {
    throw new ConfigError(`${key}.critical`, `must be a finite ratio >= warning (${levels.warning}), got ${levels.critical}`);
  }
}
