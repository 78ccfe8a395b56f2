/**
 * The one configuration schema of diffwatch: every key, its type, its default, its unit and why
 * (in each key's `describe`, which the README's config reference is generated from), and every
 * rule a value must meet. Files in `config/` and environment variables only override these
 * defaults; `loadConfig` validates the result once and freezes it.
 *
 * One section per file: kafkaSchema, ingestSchema, streamSchema, scorerSchema, detectSchema,
 * sinksSchema, stackSchema (with ops). Rules across sections are below.
 */
import { z } from 'zod';
import { createAlertLifecycle } from '../detect/alertLifecycle.ts';
import { validateCalibrationConfig } from '../detect/calibration.ts';
import { validateLevelShiftConfig } from '../detect/levelShift.ts';
import { validateOnsetGateConfig } from '../detect/onsetGate.ts';
import { OnsetScorer } from '../detect/onsetScorer.ts';
import { validateLimits } from '../detect/rules/outOfRange.ts';
import { validateTailRankConfig } from '../detect/tailRank.ts';
import { validateThresholdStateConfig } from '../detect/thresholdState.ts';
import { ConfigError } from '../errors.ts';
import { resolveModelConfig } from '../model/modelConfig.ts';
import { detectSchema } from './detectSchema.ts';
import { oneOf, rules } from './fields.ts';
import { ingestSchema } from './ingestSchema.ts';
import { kafkaSchema } from './kafkaSchema.ts';
import { scorerSchema } from './scorerSchema.ts';
import { sinksSchema } from './sinksSchema.ts';
import { opsSchema, stackSchema } from './stackSchema.ts';
import { streamSchema } from './streamSchema.ts';

export type { DetectConfig } from './detectSchema.ts';
export type { IngestConfig, IngestFormat } from './ingestSchema.ts';
export type { KafkaConfig } from './kafkaSchema.ts';
export type { ColdStartConfig, FineTuneConfig, ModelAssignment, ScorerConfig } from './scorerSchema.ts';
export type { InfluxConfig, InfluxRetentionConfig, SinksConfig } from './sinksSchema.ts';
export type { OpsConfig, StackConfig } from './stackSchema.ts';
export type { StreamConfig } from './streamSchema.ts';

type Fail = (path: PropertyKey[], message: string) => void;

const sections = z.strictObject({
  kafka: kafkaSchema.describe('Where telemetry is consumed from, and how the consumer group behaves.'),
  ingest: ingestSchema.describe('Wire formats, schemas, the dead-letter topic and ingest backpressure.'),
  stream: streamSchema.describe('How readings become rows, and rows become windows.'),
  scorer: scorerSchema.describe('How windows are scored.'),
  detect: detectSchema.describe('How scores become decisions and alerts.'),
  sinks: sinksSchema.describe('Where results go: the anomalies topic and InfluxDB.'),
  stack: stackSchema.describe('The local Kafka and InfluxDB of `diffwatch stack`.'),
  ops: opsSchema.describe('What an operator reads from a running service.'),
  log: z
    .strictObject({ level: oneOf(['debug', 'info', 'warn', 'error', 'silent']).default('info').describe('Least severe log level written. Env: DIFFWATCH_LOG_LEVEL.') })
    .prefault({})
    .describe('Logging.'),
});

/** Runs a check of a detect or model module, which throws ConfigError naming the full key. */
function byModule(fail: Fail, check: () => void, rename: (key: string) => string = (k) => k): boolean {
  try {
    check();
    return true;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const key = String(e.coords.key);
    fail([rename(key)], e.message.replace(/^config [^:]+: /, ''));
    return false;
  }
}

/** The judges' settings, each checked by the module that owns them. */
function checkDetect(c: z.output<typeof sections>, fail: Fail): void {
  const d = c.detect;
  const ok = [
    byModule(fail, () => validateThresholdStateConfig(d.threshold, 'detect.threshold')),
    byModule(fail, () => validateCalibrationConfig(d.threshold.calibration, 'detect.threshold.calibration')),
    byModule(fail, () => validateTailRankConfig(d.onsetScorer.tailRank, 'detect.onsetScorer.tailRank')),
    byModule(fail, () => validateOnsetGateConfig(d.onsetScorer.gate, 'detect.onsetScorer.gate')),
    byModule(fail, () => validateLevelShiftConfig(d.onsetScorer.levelShift, 'detect.onsetScorer.levelShift')),
    byModule(fail, () => createAlertLifecycle(d.lifecycle)),
    byModule(fail, () => validateLimits(d.rules.outOfRange.limits, 'detect.rules.outOfRange.limits')),
  ];
  // The onset scorer checks its remaining keys when built; its range-novelty part names itself without the parent key.
  if (ok[2] && ok[3] && ok[4]) byModule(fail, () => new OnsetScorer(d.onsetScorer), (k) => k.replace(/^detect\.rangeNovelty\./, 'detect.onsetScorer.rangeNovelty.'));
  if (d.judge === 'onset' && d.lifecycle.openAfterWindows > 1) {
    fail(['detect', 'lifecycle', 'openAfterWindows'], `must be 1 with detect.judge "onset": the onset judge triggers one window per excursion, got ${d.lifecycle.openAfterWindows}`);
  }
  const flat = d.rules.flatline;
  if (flat.enabled && flat.minPoints <= c.stream.maxFillSteps) {
    fail(['detect', 'rules', 'flatline', 'minPoints'], `must exceed stream.maxFillSteps (${c.stream.maxFillSteps}), got ${flat.minPoints}: forward-filled points repeat the last value and would look stuck`);
  }
}

/** What the service trains must fit the stream's windows. */
function checkTraining(c: z.output<typeof sections>, fail: Fail): void {
  const L = c.stream.windowLength;
  const { coldStart, fineTune } = c.scorer.diffusion;
  const at = ['scorer', 'diffusion', 'coldStart', 'training'];
  if ('windowLength' in coldStart.training && coldStart.training.windowLength !== L) {
    fail([...at, 'windowLength'], `must equal stream.windowLength (${L}); leave it out to use that, got ${JSON.stringify(coldStart.training.windowLength)}`);
  } else {
    byModule(fail, () => resolveModelConfig({ ...coldStart.training, windowLength: L }), (k) => k.replace(/^model\./, 'scorer.diffusion.coldStart.training.'));
  }
  const adopt = fineTune.adoptAfterWindows;
  if (adopt > 0 && adopt < 4 * L) {
    fail(['scorer', 'diffusion', 'fineTune', 'adoptAfterWindows'], `must be 0 (never) or at least 4 × stream.windowLength (${4 * L}) windows, enough to fine-tune on, got ${adopt}`);
  }
}

export const configSchema = rules(sections, (c, fail) => {
  checkDetect(c, fail);
  checkTraining(c, fail);
});

export type DiffwatchConfig = z.output<typeof configSchema>;

/** Every key at its default. */
export const DEFAULTS: DiffwatchConfig = configSchema.parse({});
