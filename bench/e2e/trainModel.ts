/**
 * A diffusion checkpoint for the benchmark's telemetry when none is given: `diffwatch train` on
 * 3,000 readings of one generated entity, with the model's defaults and few epochs (the speed of
 * scoring does not depend on how well the model learned). Cached per channel count, window and
 * model defaults, so a change of the defaults trains a new one.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { MODEL_DEFAULTS } from '../../src/model/modelConfig.ts';
import { LoadGenerator } from './loadGenerator.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ROWS = 3_000;
const EPOCHS = 3;

export async function benchModel(channels: number, windowLength: number): Promise<string> {
  const defaults = createHash('sha256').update(JSON.stringify(MODEL_DEFAULTS)).digest('hex').slice(0, 8);
  const dir = join(ROOT, '.cache/e2e-model', `c${channels}-w${windowLength}-${defaults}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  const gen = new LoadGenerator({ entities: 1, channels, seed: 0 });
  const lines = [['timestamp', ...gen.channelNames].join(',')];
  for (let i = 0; i < ROWS; i++) {
    const r = gen.reading(0, 1_700_000_000_000 + i * 1000);
    lines.push([r.timestamp, ...gen.channelNames.map((c) => r.values[c].toFixed(5))].join(','));
  }
  const csv = join(dir, 'train.csv');
  writeFileSync(csv, lines.join('\n') + '\n');
  const bin = join(ROOT, 'bin/diffwatch.js');
  await promisify(execFile)(process.execPath, [bin, 'train', '--file', csv, '--out', dir, '--window', String(windowLength), '--epochs', String(EPOCHS), '--json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  return dir;
}
