/**
 * What channel groups cost the denoiser: one forward pass and one gradient of the imputation
 * net, per group count, in this thread, on each backend asked for.
 *
 *   npx tsx bench/denoiserGroups.ts                                  # wasm, G = 1, 2, 8
 *   npx tsx bench/denoiserGroups.ts --backends wasm,tensorflow --batches 16,64,256 --runs 9 --json
 *
 * The layouts are those `netGroups` makes (imputationTraining.ts): G groups of one analogue
 * channel each, two of them also reading two commands, four calendar inputs, and the width the
 * trainer gives G groups (`groupWidth`); G = 1 is the plain net of width 32. Windows of 64 points,
 * random weights and inputs (speed does not depend on them). Every figure is the median of
 * `--runs` calls after two warm-up calls, with the load average printed beside it.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevel } from '../src/log.ts';
import { initBackend, type BackendName } from '../src/model/backend.ts';
import { groupWidth } from '../src/model/channelGroups.ts';
import { Denoiser, DENOISER_DEFAULTS } from '../src/model/denoiser.ts';
import { listFlag } from './common.ts';

const { values: flags } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm' },
    groups: { type: 'string', default: '1,2,8' },
    batches: { type: 'string', default: '16,64,256' },
    runs: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Number(flags.runs);
const L = 64;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
setLogLevel('warn');

/** G analogue channels and 4 commands; groups 0 and 1 read two commands each. */
function layout(G: number): { channels: number; groups?: number[][]; width: number } {
  const channels = G + 4;
  const width = G === 1 ? DENOISER_DEFAULTS.width : groupWidth(DENOISER_DEFAULTS.width, G);
  if (G === 1) return { channels, width };
  const groups = Array.from({ length: G }, (_, i) => [i]);
  groups[0] = [0, G, G + 1];
  groups[1] = [1, G + 2, G + 3];
  return { channels, groups, width };
}

function timeMs(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

interface Row {
  backend: string;
  groups: number;
  width: number;
  batch: number;
  forwardMs: number;
  gradientMs: number;
  load1: number;
}

function measure(backend: string, G: number, batch: number): Row {
  const { channels, groups, width } = layout(G);
  const cond = 2 * channels + 4;
  const net = new Denoiser({ channels, condChannels: cond, width, groups, seed: 1 });
  const xt = tf.randomNormal([batch, L, channels], 0, 1, 'float32', 1) as tf.Tensor3D;
  const c = tf.randomNormal([batch, L, cond], 0, 1, 'float32', 2) as tf.Tensor3D;
  const target = tf.randomNormal([batch, L, channels], 0, 1, 'float32', 3);
  const t = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 50), 'int32');
  const forward = () => tf.tidy(() => void net.apply(xt, t, c).dataSync());
  const gradient = () =>
    tf.tidy(() => {
      const { value } = tf.variableGrads(() => tf.mean(tf.squaredDifference(net.apply(xt, t, c), target)) as tf.Scalar, net.trainableVariables());
      value.dataSync();
    });
  for (let i = 0; i < 2; i++) (forward(), gradient());
  const f: number[] = [];
  const g: number[] = [];
  for (let r = 0; r < RUNS; r++) (f.push(timeMs(forward)), g.push(timeMs(gradient)));
  tf.dispose([xt, c, target, t]);
  net.dispose();
  return { backend, groups: G, width, batch, forwardMs: median(f), gradientMs: median(g), load1: os.loadavg()[0] };
}

const rows: Row[] = [];
for (const backend of listFlag(flags.backends)) {
  await initBackend(backend as BackendName, createLogger('bench'));
  for (const G of listFlag(flags.groups).map(Number)) {
    for (const batch of listFlag(flags.batches).map(Number)) {
      const row = measure(backend, G, batch);
      rows.push(row);
      if (!flags.json) console.log(`${backend.padEnd(10)} G=${G} width ${String(row.width).padStart(2)} batch ${String(batch).padStart(3)}: forward ${row.forwardMs.toFixed(1).padStart(6)} ms, gradient ${row.gradientMs.toFixed(1).padStart(6)} ms (load ${row.load1.toFixed(2)})`);
    }
  }
}
if (flags.json) console.log(JSON.stringify({ runs: RUNS, windowLength: L, loadavg: os.loadavg(), rows }, null, 2));
