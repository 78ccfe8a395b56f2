/**
 * Per-entity normalization of a shared model: an entity's own robust scaler, fitted on its first
 * windows and kept in the model store, and the affine map that feeds the shared network values
 * scaled by it.
 *
 *   x' = gain[c]·x + offset[c],  gain = s_model / s_entity,  offset = c_model − c_entity·gain
 *   ⇒ (x' − c_model) / s_model = (x − c_entity) / s_entity
 *
 * so the network sees exactly what it would with the entity's scaler in place of its own
 * (checked to 1e-4 in diffusionScorer.test.ts), and windows of many entities still go through
 * one network in one batch.
 *
 * Example:
 *   const version = await writeEntityScaler(stagingDir, series);   // normalization.json
 *   const affine = affineFor(model, readEntityScaler(liveDir));
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedModel, ScoringRoute } from './diffusionScorer.ts';
import { entityConditioningScaler } from '../model/imputationSpec.ts';
import { fitRobustScaler, type RobustScaler } from '../model/normalization.ts';
import type { TrainSeries } from '../model/trainer.ts';

export interface EntityScaler {
  scaler: RobustScaler;
  /** The channels of `scaler`, in its order. */
  channels: string[];
}

const FILE = 'normalization.json';

/**
 * Fit the scaler on `series`, write it into `dir`; returns its version (a content hash). For a
 * shared imputation model, its conditioning channels are scaled by the entity's own levels
 * (imputationSpec.ts, `entityConditioningScaler`), matched to the model's channels by name.
 */
export async function writeEntityScaler(dir: string, series: TrainSeries, model?: Pick<LoadedModel, 'channels' | 'conditioning'>): Promise<string> {
  const C = series.channels.length;
  const levels = model?.conditioning;
  const scaler = levels
    ? entityConditioningScaler(series.values, C, { levels: series.channels.map((ch) => (model.channels.includes(ch) ? levels[model.channels.indexOf(ch)] : null)) })
    : fitRobustScaler(series.values, C);
  const N = series.timestamps.length;
  const body = JSON.stringify({ scaler, channels: series.channels, rows: N, firstTimestamp: series.timestamps[0], lastTimestamp: series.timestamps[N - 1] });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, FILE), body);
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

export function readEntityScaler(dir: string): EntityScaler {
  return JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as EntityScaler;
}

/** The affine map that makes `model` see values scaled by the entity's scaler, in the model's channel order. */
export function affineFor(model: LoadedModel, entity: EntityScaler): NonNullable<ScoringRoute['affine']> {
  const at = new Map(entity.channels.map((c, i) => [c, i]));
  const C = model.channels.length;
  const gain = new Float32Array(C);
  const offset = new Float32Array(C);
  model.channels.forEach((ch, c) => {
    const e = at.get(ch);
    const sEntity = e === undefined ? 1 : entity.scaler.scale[e];
    const cEntity = e === undefined ? model.normalization.center[c] : entity.scaler.center[e];
    gain[c] = model.normalization.scale[c] / sEntity;
    offset[c] = model.normalization.center[c] - cEntity * gain[c];
  });
  return { gain, offset };
}
