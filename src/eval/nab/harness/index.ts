/** The NAB benchmark harness: a flat barrel. */
export { lifecycleAlertRule, type AlertRule, type LifecycleAlertOptions, type WindowLevels } from './alertRule.ts';
export { baselineDetector, type BaselineDetectorOptions } from './baselineDetector.ts';
export { boundedScore, zOfBoundedScore } from './boundedScore.ts';
export { createWindowedGaussianScorer, windowedGaussianDetector, WindowedGaussian, NAB_STEP_SIZE, NAB_WINDOW_SIZE, type WindowedGaussianDetectorOptions } from './classicDetector.ts';
export { detectionDelay, type DelayInput, type DetectionDelay } from './detectionDelay.ts';
export { DEFAULT_DETECTORS, DETECTORS, detectorRegistry, parseFineTuneFlag, parseModelFlag, parseOnsetFlag, resolveDetectors } from './detectors.ts';
export { matchFiles } from './matchFiles.ts';
export { renderReport, writeReport } from './report.ts';
export { replaySource, rowOfOffset, type ReplaySourceOptions } from './replaySource.ts';
export { runCorpus, type CorpusFile, type CorpusRun, type DetectorRun, type FileDone, type FileRun, type FileStart, type RunCorpusOptions, type RunProgress } from './runCorpus.ts';
export { formatScoreTable, readScoreboard, PROFILE_ORDER, type ScoreboardRow } from './scoreboard.ts';
export { replayStreamConfig, scoreReplay, type ReplayScores, type ScoreReplayOptions } from './scoreReplay.ts';
export { ALERT_THRESHOLD, NAB_PROFILES, summarise, writeSummary, type DetectorSummary, type ProfileSummary, type RunSummary } from './summary.ts';
export { svgPlot, type PlotInput, type PlotSeries } from './svgPlot.ts';
export type { FileContext, FileDetector, Judge, Judgement, NabDetector } from './types.ts';
export { formatScore, labelColumn, resultsCsv, writeResults } from './writeResults.ts';
export { NAB_SPLIT_CHOICES, selectSplit, splitOf, type NabSplit, type NabSplitChoice } from '../split.ts';
