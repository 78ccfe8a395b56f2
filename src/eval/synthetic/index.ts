/** The synthetic anomaly suite: a flat barrel. */
export { LAYOUTS, makeBaseSeries, pulseColumn, type BaseSeries, type CommandResponse, type CoupledChannel, type Layout } from './baseSeries.ts';
export { ALL_TYPES, CHANNEL_TYPES, RELATION_TYPES, makeCase, typesOf, type SyntheticCase } from './cases.ts';
export { formatSuiteTable } from './formatTable.ts';
export { SYNTHETIC_DEFAULTS, partRows, type SyntheticKnobs } from './knobs.ts';
export { averagePrecision, caseMetrics, holdoutThreshold, summariseType, type CaseMetrics, type TypeSummary } from './metrics.ts';
export { settleRows } from './relationAnomalies.ts';
export { replayEvidence } from './replayEvidence.ts';
export { runSuite, type CaseResult, type SuiteOptions, type SuiteResult } from './runSuite.ts';
export type { Injection, Segment } from './segmentAnomalies.ts';
export { cleanValue, columnRange, dailyShape, type Wave } from './wave.ts';
