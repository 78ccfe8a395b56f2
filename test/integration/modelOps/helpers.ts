/**
 * Shared set-up of the tests of models the service trains itself: one run's names (its own
 * group, state, models and rows topics, database and anomalies topic), its model store, and a `diffwatch run`
 * config with the diffusion scorer and no shipped model, so every entity starts cold.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ColdStartConfig, FineTuneConfig } from '../../../src/config/schema.ts';
import { createModelStore, type ModelStore } from '../../../src/modelOps/modelStore.ts';
import { uniqueName } from '../helpers.ts';
import { writeConfig } from '../service/runHelpers.ts';

export interface TrainedModelsRun {
  topic: string;
  groupId: string;
  stateTopic: string;
  modelTopic: string;
  rowTopic: string;
  database: string;
  anomalies: string;
  storeDir: string;
  store: ModelStore;
}

export function trainedModelsRun(prefix: string): TrainedModelsRun {
  const storeDir = join(mkdtempSync(join(tmpdir(), 'diffwatch-store-')), 'models');
  return {
    topic: uniqueName(`${prefix}-telemetry`),
    groupId: uniqueName(`${prefix}-group`),
    stateTopic: uniqueName(`${prefix}-state`),
    modelTopic: uniqueName(`${prefix}-models`),
    rowTopic: uniqueName(`${prefix}-rows`),
    database: uniqueName(prefix).replace(/-/g, '_'),
    anomalies: uniqueName(`${prefix}-anomalies`),
    storeDir,
    store: createModelStore(storeDir),
  };
}

/** A config file for `run`: window `windowLength`, one scoring worker on wasm, the given cold start, fine-tuning and detector settings. */
export function trainedModelsConfig(run: TrainedModelsRun, o: { windowLength: number; coldStart: Omit<ColdStartConfig, 'maxConcurrent' | 'hold'> & { hold?: boolean }; fineTune: Partial<FineTuneConfig>; detect: Record<string, unknown>; microBatchSize?: number }): string {
  return writeConfig({
    // A SIGKILLed member is only evicted after the session timeout: the broker's minimum, not 30 s.
    kafka: { topics: [run.topic], groupId: run.groupId, commitIntervalMs: 200, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 },
    stream: { windowLength: o.windowLength, hop: 1 },
    scorer: {
      kind: 'diffusion',
      ...(o.microBatchSize !== undefined ? { microBatchSize: o.microBatchSize } : {}),
      diffusion: { modelDir: null, modelStore: run.storeDir, modelTopic: run.modelTopic, rowTopic: run.rowTopic, workers: 1, backend: 'wasm', coldStart: { ...o.coldStart, maxConcurrent: 1 }, fineTune: o.fineTune },
    },
    detect: { stateTopic: run.stateTopic, ...o.detect },
    sinks: { anomaliesTopic: run.anomalies, influx: { database: run.database } },
  });
}
