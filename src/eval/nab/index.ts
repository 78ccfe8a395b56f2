/** NAB v1.1 scoring: a flat barrel. */
export { scaledSigmoid, sigmoid, MAX_TP } from './scaledSigmoid.ts';
export { probationaryLength, parseNabTimestamp, windowRows, PROBATIONARY_PERCENT, type WindowRows } from './labels.ts';
export { prepareCorpus, OUTSIDE, PROBATION, type PreparedCorpus, type PreparedFile } from './prepareCorpus.ts';
export { scoreFile, scoreRows } from './scoreFile.ts';
export { scoreCorpus, type CorpusScore, type FileScore } from './scoreCorpus.ts';
export { sweep, sortedRows, NO_DETECTION_THRESHOLD, type SweepResult } from './sweep.ts';
export { normalise, nullScore, perfectScore } from './normalise.ts';
export {
  readDetectorResults,
  readLabelWindows,
  readProfiles,
  readThresholds,
  resolveDetectorDir,
  resultsPath,
  type ReadResultsOptions,
  type StoredThreshold,
} from './corpus.ts';
export { readCsvColumns } from './readCsvColumns.ts';
export { nabScore, profileReport, type NabReport, type NabScoreOptions, type ProfileReport, type ProfileScore } from './nabScore.ts';
export { formatReport } from './formatReport.ts';
export { NabError, type NabErrorCode } from './nabError.ts';
export type { CostMatrix, DetectorFile, DetectorResults, LabelWindow, ThresholdScore } from './types.ts';
