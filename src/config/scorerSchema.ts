/** The `scorer` section: which scorer runs, which models score which entities, and what the service trains. */
import { z } from 'zod';
import { bool, expected, int, matching, oneOf, regexSource, rules, shown, str } from './fields.ts';

const match = regexSource().describe('A regular expression; the rule applies to the entity ids it finds.');

/**
 * Which model scores an entity:
 * - `dir`: a checkpoint written by `diffwatch train`, shared by every matching entity. With
 *   `normalization: 'entity'` each entity is scaled by its own robust statistics, fitted on its
 *   first `coldStart.windows` windows (warm-up until then), so one network serves machines that
 *   run at different levels.
 * - `entity`: a model per entity, trained by the service on the entity's first
 *   `coldStart.windows` windows (cold start) and fine-tuned as configured.
 * - `group`: one model for all matching entities, trained on the first windows of the group.
 * An entity no rule matches uses `modelDir`; when that is null, it gets a model of its own.
 */
export const modelAssignment = z.discriminatedUnion(
  'use',
  [
    z.strictObject({ match, use: z.literal('dir'), dir: str(), normalization: oneOf(['model', 'entity']) }),
    z.strictObject({ match, use: z.literal('entity') }),
    z.strictObject({ match, use: z.literal('group'), group: matching(/^[A-Za-z0-9_.-]+$/, 'a name of letters, digits, _ . or -') }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `must be one of dir, entity, group, got ${shown((iss.input as { use?: unknown } | undefined)?.use)}`
        : expected('an object such as {"match": "^pump-", "use": "entity"}')(iss),
  },
);
export type ModelAssignment = z.output<typeof modelAssignment>;

const settingValue = z.union([z.number(), z.string(), z.boolean()], { error: expected('a number, string or boolean') });

export const coldStartSchema = z
  .strictObject({
    windows: int(16).default(2_000).describe('Windows an entity (or group) collects before its model is trained or its normalization fitted.'),
    training: z
      .record(z.string(), settingValue, { error: expected('an object of model settings such as {"width": 32}') })
      .default({})
      .describe('Overrides of the model\'s hyper-parameters for models trained here (src/model/modelConfig.ts); windowLength is always stream.windowLength.'),
    maxConcurrent: int(1, 16).default(1).describe('Training jobs at once, each on one worker thread: the CPU share training may take.'),
    hold: bool()
      .default(false)
      .describe('Hold scoring (and so, through backpressure, consumption) while a cold start trains, so that a replay or backfill is scored by the new model instead of racing past it as warm-up. Off for live telemetry, which arrives far slower than a model trains.'),
  })
  .prefault({});
export type ColdStartConfig = z.output<typeof coldStartSchema>;

export const fineTuneSchema = z
  .strictObject({
    everyWindows: int(0).default(0).describe('Fine-tune an entity or group model after this many windows judged normal; 0: never.'),
    recentWindows: int(16).default(5_000).describe('The most recent normal windows kept per model to fine-tune on.'),
    epochs: int(1, 1_000).default(3).describe('Passes over the recent windows per fine-tune.'),
    refitNormalization: bool().default(true).describe('Refit the input scaler on the recent windows, so that the model follows a new normal level.'),
    hold: bool()
      .default(false)
      .describe('Hold scoring (and so, through backpressure, consumption) while a fine-tune or a new normal trains, as coldStart.hold does for the first model, so that a replay swaps each new version in at the same place in the stream however fast the machine trains. Off for live telemetry, which should not wait for training.'),
    adoptAfterWindows: int(0)
      .default(0)
      .describe('After this many windows in a row judged anomalous, take them as the new normal (a level shift, a re-tuned machine): fine-tune on them with a refitted scaler (or refit the entity\'s scaler), so that the incident resolves instead of staying open for days. 0: never; else at least 4 × stream.windowLength, and enough to cover one cycle of the signal\'s slowest regular pattern (a day of a daily cycle): the adopted model learns from these windows alone, and phases it has not seen score high.'),
  })
  .prefault({});
export type FineTuneConfig = z.output<typeof fineTuneSchema>;

const diffusionSchema = z
  .strictObject({
    modelDir: str().nullable().default(null).describe('Checkpoint directory written by `diffwatch train`: the shared model of every entity that no rule in `models` maps elsewhere.'),
    workers: int(0, 64).default(0).describe('Scoring worker threads; 0: one per core.'),
    backend: oneOf(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']).default('auto').describe('TF.js backend: auto picks the fastest available (tensorflow, webgpu, wasm, cpu).'),
    modelStore: str()
      .nullable()
      .default(null)
      .describe('Directory of the models the service trains itself (cold start, fine-tuning) and of per-entity normalization: `<modelStore>/<key>/<version>/` with `<key>/CURRENT` naming the live version. Env: DIFFWATCH_MODEL_STORE.'),
    modelTopic: str()
      .nullable()
      .default('diffwatch.models')
      .describe('Compacted topic the models trained here are written to (keyed by model key, one checkpoint per record, max.message.bytes 4 MiB), so that an instance taking over a partition goes on with the same models; modelStore is then its local cache (docs/model-store.md). null: modelStore alone, for a single instance. Env: DIFFWATCH_MODEL_TOPIC.'),
    rowTopic: str()
      .nullable()
      .default('diffwatch.rows')
      .describe('Compacted topic holding the rows an entity has collected towards its cold start and for fine-tuning, in chunks keyed `<modelKey>#<purpose>#<slot>`, so that a restart or rebalance resumes the collection. null: rows are kept in memory only. Env: DIFFWATCH_ROW_TOPIC.'),
    models: z
      .array(modelAssignment, { error: expected('an array of rules such as [{"match": "^pump-", "use": "entity"}]') })
      .default([])
      .describe('Entity → model rules; the first whose `match` (a regular expression) finds the entity id wins. A rule is `{match, use: "dir", dir, normalization: "model" | "entity"}` (a checkpoint shared by the matching entities, scaled by the model or per entity), `{match, use: "entity"}` (a model per entity, trained here) or `{match, use: "group", group}` (one model trained here for the group). An entity no rule matches uses modelDir; when that is null, it gets a model of its own.'),
    coldStart: coldStartSchema.describe('Models trained by the service on the first windows of an entity or group.'),
    fineTune: fineTuneSchema.describe('Keeping trained models up to date with what is normal now.'),
  })
  .prefault({});

export const scorerSchema = rules(
  z.strictObject({
    kind: oneOf(['baseline', 'diffusion', 'noop'])
      .default('baseline')
      .describe('The scorer: a running median and MAD per channel, the diffusion model, or noop (every score 0: measures the pipeline without a model, never alerts).'),
    microBatchSize: int(1).default(256).describe('Windows per scorer call, across entities.'),
    microBatchMs: int(0).default(20).describe('ms to wait for a micro-batch to fill before scoring what is there.'),
    diffusion: diffusionSchema.describe('The diffusion scorer: its models, where they come from, and what the service may train.'),
    baseline: z
      .strictObject({
        historyLength: int(8).default(1024).describe('Points of history per entity and channel for the running median and MAD.'),
        minHistory: int(1).default(64).describe('Points of history an entity needs before its scores may alert (warm-up); at most historyLength.'),
      })
      .prefault({})
      .describe('The baseline scorer.'),
  }),
  (sc, fail) => {
    const b = sc.baseline;
    if (b.minHistory > b.historyLength) fail(['baseline', 'minHistory'], `must be at most scorer.baseline.historyLength (${b.historyLength}), got ${b.minHistory}`);
    if (sc.kind !== 'diffusion') return;
    const d = sc.diffusion;
    if (d.modelDir === null && d.modelStore === null) {
      fail(['diffusion', 'modelDir'], 'the diffusion scorer needs a checkpoint directory (write one with `diffwatch train --out <dir>`), or scorer.diffusion.modelStore to train a model per entity');
    }
    const trains = d.modelDir === null || d.models.some((r) => r.use !== 'dir' || r.normalization === 'entity');
    if (trains && d.modelStore === null && d.modelDir !== null) {
      fail(['diffusion', 'modelStore'], 'models the service trains (per entity or group) and per-entity normalization need a directory: set scorer.diffusion.modelStore');
    }
  },
).prefault({});

export type ScorerConfig = z.output<typeof scorerSchema>;
